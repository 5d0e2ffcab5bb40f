// A connection that goes silent for good (a firewall or NAT that dropped its
// state, a host gone without a reset) while Redis itself still answers new
// connections: TCP would notice only after minutes. The stores must replace
// it within seconds, so commands work again, the spool drains, and changes
// published meanwhile reach this gateway (as a reload) instead of being lost.
// Runs on the shared test Redis through a proxy the test controls.
import t from 'tap'
import type { StoreChange } from '@govex/core'
import { needRedis, rawClient, scope, REDIS_URL } from './helpers/redis.js'
import { RedisProxy } from './helpers/proxy.js'
import { eventually, exchange, member } from './helpers/fixtures.js'

if (await needRedis(t)) {
  t.test('silent connections are replaced: commands, the spool and the change feed recover within seconds', async t => {
    const s = scope(t)
    const proxy = await RedisProxy.start(REDIS_URL)
    t.teardown(() => proxy.close())
    const spoolDir = t.testdir()
    const stores = await s.open({ url: proxy.url, gatewayId: 'tj.gw.cut', spoolDir, commandTimeoutMs: 300 })
    const other = await s.open({ gatewayId: 'tj.gw.other' })
    const changes: StoreChange[] = []
    stores.subscribe(change => changes.push(change))
    await stores.audit.append(exchange('tj.mca', 'tj.psb', 1))
    const accepted = proxy.accepted

    proxy.sever()
    await t.rejects(stores.ping(), { code: 'GOVEX_ERR_UNAVAILABLE' }, 'a call on the silent connection fails at its deadline')
    const spooled = await stores.audit.append(exchange('tj.mca', 'tj.psb', 2))
    t.equal(spooled.seq, 2, 'the record is spooled')
    await other.members.put(member('tj.civil'))

    const started = Date.now()
    await eventually(5000, async () => await stores.ping().then(() => true, () => false), ok => ok)
    t.pass(`commands answer again ${Date.now() - started} ms later`)
    t.ok(proxy.accepted > accepted, 'on new connections')
    await eventually(5000, async () => stores.audit.spooled, n => n === 0)
    t.pass(`the spool drained ${Date.now() - started} ms after the cut`)
    await eventually(5000, async () => changes.length, n => n > 0)
    t.pass(`the change feed caught up ${Date.now() - started} ms after the cut`)
    t.match(changes, [{ kind: 'reload' }], 'told to reload what it may have missed')
    const raw = await rawClient(t)
    t.equal(await raw.xlen(`${s.prefix}{govex}:audit:tj.gw.cut`), 2)
    t.same(await stores.audit.verify(), { ok: true, checked: 2 })
  })
}
