// Replay guard and quota shared by two gateways on one Redis: a claim or a
// count made through one is seen by the other at once.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { needRedis, rawClient, scope } from './helpers/redis.js'

const MINUTE = 60_000
const DAY = 86_400_000

if (await needRedis(t)) {
  t.test('an envelope id claimed on one gateway is a replay on the other', async t => {
    const s = scope(t)
    const a = await s.open({ gatewayId: 'tj.gw.a' })
    const b = await s.open({ gatewayId: 'tj.gw.b' })
    const id = randomUUID()
    t.equal(await a.replay.claim(id, 60), true)
    t.equal(await b.replay.claim(id, 60), false)
    await b.replay.release(id)
    t.equal(await a.replay.claim(id, 60), true, 'released on b, claimable on a')
    const raw = await rawClient(t)
    const ttl = await raw.ttl(`${s.prefix}{govex}:replay:${id}`)
    t.ok(ttl > 55 && ttl <= 60, `the claim expires with the window (ttl ${ttl})`)
    const racing = randomUUID()
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).replay.claim(racing, 60)))
    t.equal(claims.filter(Boolean).length, 1, 'one winner across gateways')
    t.equal(await a.replay.claim(randomUUID(), 0.2), true, 'a sub-second window is held for a second')
  })

  t.test('a grant quota is shared by every gateway', async t => {
    const s = scope(t)
    const a = await s.open({ gatewayId: 'tj.gw.a' })
    const b = await s.open({ gatewayId: 'tj.gw.b' })
    const noon = (Math.floor(Date.now() / DAY) + 1) * DAY + 12 * 60 * MINUTE
    const limits = { perMinute: 10, perDay: 15 }
    const decisions = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).quota.consume('g1', limits, noon + i)))
    t.equal(decisions.filter(d => d.ok).length, 10, 'ten in the minute, across both gateways')
    t.match(decisions.find(d => !d.ok), { ok: false, window: 'minute' })
    // the previous minute still weighs: half of it at 30 s into the next
    t.equal((await a.quota.consume('g1', limits, noon + MINUTE + 30_000)).ok, true)
    const counted: boolean[] = []
    for (let i = 0; i < 10; i++) counted.push((await b.quota.consume('g1', limits, noon + MINUTE + 30_001 + i)).ok)
    t.equal(counted.filter(Boolean).length, 4, 'sliding window: 10 × 0.5 + 5 = 10')
    // 15 a day: 15 counted so far, so the day is spent
    const late = await a.quota.consume('g1', limits, noon + 10 * MINUTE)
    t.same(late, { ok: false, window: 'day', retryAfterS: 12 * 3600 - 600 })
    t.same(await b.quota.consume('g2', {}, noon), { ok: true }, 'no limits')
  })

  t.test('quota keys expire', async t => {
    const s = scope(t)
    const a = await s.open()
    const now = Date.now()
    await a.quota.consume('g1', { perMinute: 5, perDay: 5 }, now)
    const raw = await rawClient(t)
    const keys = await raw.keys(`${s.prefix}{govex}:quota:g1:*`)
    t.equal(keys.length, 2, 'a minute bucket and a day counter')
    for (const key of keys) {
      const ttl = await raw.pttl(key)
      t.ok(ttl > 0 && ttl <= DAY + 3_600_000, `${key} expires (${ttl} ms)`)
    }
  })
}
