// fix-silent-change-feed: the connection that hears store changes goes silent
// (cut without a reset: a firewall or NAT that lost its state) while the one
// that runs commands still answers. The gateway's view of members, catalog and
// plans may then miss a change made through another gateway, so it must not
// go on admitting exchanges on it: every change reaches every gateway within
// 1 s (PROTOCOL.md), and a gateway that cannot tell fails closed
// (ARCHITECTURE.md). Before the fix the stores admitted on for the ~2 s it took
// to notice the silence, and ping (readyz) answered. Runs on the shared test
// Redis through a proxy the test controls.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { StoreChange } from '@govex/core'
import { needRedis, rawClient, scope, REDIS_URL } from './helpers/redis.js'
import { RedisProxy } from './helpers/proxy.js'
import { eventually, member, sleep } from './helpers/fixtures.js'

if (await needRedis(t)) {
  t.test('a silent change feed: admissions and ping fail closed until it is back, and the change is heard', async t => {
    const s = scope(t)
    const proxy = await RedisProxy.start(REDIS_URL)
    t.teardown(() => proxy.close())
    const cut = await s.open({ url: proxy.url, gatewayId: 'tj.gw.cut' })
    const other = await s.open({ gatewayId: 'tj.gw.other' })
    const heard: StoreChange[] = []
    cut.subscribe(change => heard.push(change))
    t.same(await cut.admit({ id: randomUUID(), windowS: 60 }), { ok: true })

    // the subscriber's connection, as Redis sees it: its port is the proxy's side towards Redis
    const raw = await rawClient(t)
    const clients = String(await raw.client('LIST')).split('\n')
    const line = clients.find(l => l.includes(` name=${s.prefix}tj.gw.cut/changes `)) ?? ''
    const port = Number(/ addr=\S*:(\d+) /.exec(line)?.[1])
    t.ok(proxy.severOne(port), 'the change feed is cut; commands still get through')

    await other.members.put(member('tj.civil'))
    const changed = performance.now()
    const late: string[] = []
    let refused = 0
    let pingRefused = false
    while (heard.length === 0 && performance.now() - changed < 5000) {
      const at = performance.now() - changed
      const answer = await cut.admit({ id: randomUUID(), windowS: 60 }).then(() => 'admitted', (err: { code?: string }) => err.code ?? 'error')
      if (answer === 'GOVEX_ERR_UNAVAILABLE') refused++
      else if (at > 1000 && heard.length === 0) late.push(`${Math.round(at)} ms: ${answer}`)
      if (at > 1000 && heard.length === 0 && !pingRefused) pingRefused = await cut.ping().then(() => false, () => true)
      await sleep(25)
    }
    t.same(late, [], 'nothing admitted more than 1 s after a change the gateway has not heard')
    t.ok(refused > 0, `admissions refused with GOVEX_ERR_UNAVAILABLE meanwhile (${refused})`)
    t.ok(pingRefused, 'ping (readyz) refuses too')
    t.match(heard, [{ kind: 'reload' }], `told to reload ${Math.round(performance.now() - changed)} ms after the change`)
    await eventually(2000, async () => await cut.admit({ id: randomUUID(), windowS: 60 }).then(() => true, () => false), ok => ok)
    await cut.ping()
    t.pass('admissions and ping answer again')
  })
}
