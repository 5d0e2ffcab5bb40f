// A gateway that starts while Redis is down (openRedisStores waitForRedis):
// the stores open at once, every call fails closed with GOVEX_ERR_UNAVAILABLE
// within its deadline, and once Redis answers they subscribe, read the audit
// chain head (replaying a spool left by an earlier run) and tell listeners to
// reload, with no traffic needed. Runs on the shared test Redis through a
// proxy the test controls.
import t from 'tap'
import type { StoreChange } from '@govex/core'
import { needRedis, rawClient, scope, REDIS_URL } from './helpers/redis.js'
import { RedisProxy } from './helpers/proxy.js'
import { eventually, exchange, member } from './helpers/fixtures.js'

if (await needRedis(t)) {
  t.test('stores opened while Redis is down fail closed, then come up by themselves', async t => {
    const s = scope(t)
    const proxy = await RedisProxy.start(REDIS_URL)
    t.teardown(() => proxy.close())
    const spoolDir = t.testdir()
    // an earlier run left two records in the spool (Redis was down when it stopped)
    const first = await s.open({ url: proxy.url, gatewayId: 'tj.gw.late', spoolDir })
    await first.audit.append(exchange('tj.mca', 'tj.psb', 1))
    proxy.down()
    await first.audit.append(exchange('tj.mca', 'tj.psb', 2))
    await first.audit.append(exchange('tj.mca', 'tj.psb', 3))
    await first.close()

    const started = Date.now()
    const stores = await s.open({ url: proxy.url, gatewayId: 'tj.gw.late', spoolDir, waitForRedis: true })
    t.ok(Date.now() - started < 500, `open resolves at once (${Date.now() - started} ms)`)
    const changes: StoreChange[] = []
    stores.subscribe(change => changes.push(change))
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['ping', async () => await stores.ping()],
      ['members.list', async () => await stores.members.list()],
      ['replay.claim', async () => await stores.replay.claim('0193a1c2-7c1e-7a35-9b7e-000000000009', 60)],
      ['audit.append', async () => await stores.audit.append(exchange('tj.mca', 'tj.psb', 4))]
    ]
    for (const [name, call] of calls) {
      const before = Date.now()
      await t.rejects(call(), { code: 'GOVEX_ERR_UNAVAILABLE' }, `${name} fails closed`)
      t.ok(Date.now() - before < 1000, `${name} within 1 s (${Date.now() - before} ms)`)
    }

    const other = await s.open({ gatewayId: 'tj.gw.other' })
    await other.members.put(member('tj.civil'))
    proxy.open()
    const up = Date.now()
    await eventually(5000, async () => changes.length, n => n > 0)
    t.same(changes[0], { kind: 'reload' }, `listeners told to load everything ${Date.now() - up} ms after Redis answered`)
    const raw = await rawClient(t)
    const stream = `${s.prefix}{govex}:audit:tj.gw.late`
    await eventually(5000, async () => await raw.xlen(stream), n => n === 3)
    t.pass(`the earlier run's spool drained ${Date.now() - up} ms after Redis answered, with no traffic`)
    await stores.ping()
    t.equal((await stores.audit.append(exchange('tj.mca', 'tj.psb', 4))).seq, 4, 'the chain goes on from the replayed spool')
    t.same(await stores.audit.verify(), { ok: true, checked: 4 })
    t.same((await stores.members.list()).map(m => m.id), ['tj.civil'])
  })

  t.test('with Redis up, stores that may wait for it open ready to use', async t => {
    const s = scope(t)
    const stores = await s.open({ gatewayId: 'tj.gw.up', waitForRedis: true })
    await stores.ping()
    t.equal((await stores.audit.append(exchange('tj.mca', 'tj.psb', 1))).seq, 1)
    t.equal(await stores.replay.claim('0193a1c2-7c1e-7a35-9b7e-000000000001', 60), true)
  })
}
