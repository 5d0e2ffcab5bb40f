// The replay guard's compact id set (store/memory/id-set.ts): its keyed hash
// against the reference vectors, and every operation against a plain Map
// model through growth, sweeps, renewals and releases.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { ExpiringIdSet, halfSipHash128 } from '../src/store/memory/id-set.js'
import { MemoryReplayGuard } from '../src/store/memory/replay.js'

t.test('HalfSipHash-2-4 gives the reference vector for 16 bytes (key 00..07, message 00..0f)', async t => {
  // veorq/SipHash vectors_hsip32[16], bytes d9 b5 ac 84 little-endian
  t.equal(halfSipHash128(0x03020100, 0x07060504, 0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c, 2, 4) >>> 0, 0x84acb5d9)
  t.not(halfSipHash128(1, 2, 3, 4, 5, 6), halfSipHash128(1, 3, 3, 4, 5, 6), 'the key changes the hash')
})

t.test('the set agrees with a Map model through growth, sweeps, renewals and releases', async t => {
  let seed = 42
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return seed % n
  }
  const pool = Array.from({ length: 6000 }, (_, i) => i % 7 === 0 ? `id-${i}` : i % 11 === 0 ? randomUUID().toUpperCase() : randomUUID())
  const set = new ExpiringIdSet()
  const model = new Map<string, number>()
  let now = 1_000_000
  let mismatches = 0
  for (let step = 0; step < 200_000; step++) {
    now += random(3)
    const id = pool[random(pool.length)] as string
    const op = random(10)
    const modelExpiry = model.get(id) ?? 0
    const modelHeld = modelExpiry > now ? modelExpiry : 0
    if (op < 6) {
      const window = random(4) === 0 ? 40_000 : 2_000
      if (modelHeld === 0) {
        set.hold(id, now + window, now)
        model.set(id, now + window)
      } else if (set.expiryOf(id, now) !== modelHeld) mismatches++
    } else if (op < 9) {
      if (set.expiryOf(id, now) !== modelHeld) mismatches++
    } else {
      set.drop(id)
      model.delete(id)
    }
  }
  t.equal(mismatches, 0, 'every lookup answered as the model')
  let live = 0
  for (const [id, expiry] of model) {
    if (expiry > now) live++
    if (set.expiryOf(id, now) !== (expiry > now ? expiry : 0)) mismatches++
  }
  t.equal(mismatches, 0, 'and every id at the end')
  t.ok(set.size >= live && set.size <= live * 2 + 1024, `size ${set.size} follows the ${live} live ids`)
})

t.test('a set that grew shrinks back once its ids expire', async t => {
  const set = new ExpiringIdSet()
  for (let i = 0; i < 50_000; i++) set.hold(randomUUID(), 1000, 0)
  t.equal(set.size, 50_000)
  set.hold(randomUUID(), 5000, 1000)
  t.equal(set.size, 1, 'every expired id left from the head')
})

t.test('the guard: claim takes a UUID in any spelling (as admit does); isHeld, holdNow and seed take the lowercase form', async t => {
  const guard = new MemoryReplayGuard({ now: () => 0 })
  const id = randomUUID()
  t.equal(guard.claimNow(id, 60), true)
  t.equal(guard.claimNow(id, 60), false)
  t.equal(guard.claimNow(id.toUpperCase(), 60), false, 'the same id upper-cased')
  guard.seed(id, 30_000)
  t.equal(guard.isHeld(id), true, 'a shorter seed keeps the longer claim')
  await guard.release(id)
  t.equal(guard.isHeld(id), false)
  guard.seed(id, 1)
  t.equal(guard.isHeld(id), true, 'seeded')
})

t.test('fix-id-set-growth-behind-a-long-claim: a full ring sweeps expired ids instead of doubling for them', async t => {
  // one long claim holds the head; short ones behind it expire but cannot leave
  // from the head, so only the sweep of a full ring drops them
  const set = new ExpiringIdSet()
  set.hold(randomUUID(), 1e15, 0)
  let now = 1
  for (let i = 0; i < 200_000; i++) {
    now++
    set.hold(randomUUID(), now + 10, now)
  }
  t.ok(set.size <= 2048, `size ${set.size}: the ring holds about the ~11 live ids`)
  t.equal(set.capacity, 1024, 'the ring stays at its first capacity')
})

t.test('after a spike the ring gives its memory back as the ids leave', async t => {
  const set = new ExpiringIdSet()
  const spike = Array.from({ length: 100_000 }, () => randomUUID())
  for (const id of spike) set.hold(id, 1000, 0)
  t.ok(set.capacity >= 100_000, `grew to ${set.capacity} slots`)
  // quiet traffic after the window: one id a step, each step prunes
  const quiet = Array.from({ length: 20 }, () => randomUUID())
  quiet.forEach((id, i) => { set.hold(id, 5000, 2000 + i) })
  t.equal(set.size, 20)
  t.equal(set.capacity, 1024, 'back to the smallest ring')
  t.ok(spike.slice(0, 500).every(id => set.expiryOf(id, 2100) === 0), 'the spike\'s ids are gone')
  t.ok(quiet.every(id => set.expiryOf(id, 2100) === 5000), 'the ids held since are still held after the ring shrank')
})

t.test('ids that are not UUIDs are told apart code unit by code unit (lone surrogates too)', async t => {
  const set = new ExpiringIdSet()
  set.hold('x\ud800', 5000, 0)
  t.equal(set.expiryOf('x\ud801', 0), 0, 'a different lone surrogate is another id')
  t.equal(set.expiryOf('x\ud800', 0), 5000)
})
