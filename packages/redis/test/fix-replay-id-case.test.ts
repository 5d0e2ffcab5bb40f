// fix-replay-id-case: an envelope id is a UUID, case-insensitive, so one id in
// any spelling is one claim; claim (and release) must agree with admit, which
// compares it lower-cased.
import t from 'tap'
import { needRedis, scope } from './helpers/redis.js'

const LOWER = '0193a1c2-7c1e-7a35-9b7e-00000000abcd'
const UPPER = LOWER.toUpperCase()

if (await needRedis(t)) {
  t.test('claim, release and admit treat one id in any spelling as one', async t => {
    const s = scope(t)
    const stores = await s.open()
    t.equal(await stores.replay.claim(UPPER, 60), true, 'first claim')
    t.equal(await stores.replay.claim(LOWER, 60), false, 'the same id lower-cased is a replay')
    t.same(await stores.admit({ id: LOWER, windowS: 60 }), { ok: false, reason: 'replay' }, 'admit sees the claim')
    await stores.replay.release(LOWER)
    t.equal(await stores.replay.claim(UPPER, 60), true, 'released in any spelling')

    const other = '0193A1C2-7C1E-7A35-9B7E-00000000BEEF'
    t.same(await stores.admit({ id: other, windowS: 60 }), { ok: true })
    t.equal(await stores.replay.claim(other.toLowerCase(), 60), false, 'claim sees what admit took')
  })
}
