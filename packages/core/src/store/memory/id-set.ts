// A set of 128-bit ids, each held until its expiry, in typed arrays: the
// replay guard's memory. A UUID costs ~40 bytes here against ~145 as a string
// key of a Map (bench/micro), and the guard holds every envelope id of its
// window (24 h by default), so this is most of a file-store gateway's growth.
//
// Layout: a ring of entries in claim order (4 key words, a hash, an expiry)
// and a linear-probing index of ring slots. Claims that share one window expire
// in claim order, so expired entries leave from the head one by one; entries
// stuck behind a longer window are dropped by a sweep when the ring is full.
// Ids are chosen by clients, so the index hashes them with HalfSipHash-1-3
// under a random key: nobody can aim ids at one index bucket.
import { createHash, randomBytes } from 'node:crypto'

// no expiry can be this (it is now + a window): marks a released or renewed entry
const DEAD = -Infinity
const MIN_RING = 1024

function rotl (x: number, b: number): number {
  return (x << b) | (x >>> (32 - b))
}

/**
 * HalfSipHash with a 32-bit output (Aumasson & Bernstein's reference, 32-bit
 * words) of a 16-byte message given as four little-endian words. `c`, `d`:
 * compression and finalisation rounds (1-3 for hash tables, as Linux uses it;
 * 2-4 reproduces the reference test vectors).
 */
export function halfSipHash128 (k0: number, k1: number, m0: number, m1: number, m2: number, m3: number, c = 1, d = 3): number {
  const v = state
  v[0] = k0; v[1] = k1; v[2] = 0x6c796765 ^ k0; v[3] = 0x74656462 ^ k1
  compress(m0, c); compress(m1, c); compress(m2, c); compress(m3, c)
  compress(16 << 24, c) // the message length, as the reference's last block
  v[2] = (v[2] as number) ^ 0xff
  for (let i = 0; i < d; i++) sipRound()
  return (v[1] as number) ^ (v[3] as number)
}

const state = new Int32Array(4)

function compress (m: number, c: number): void {
  state[3] = (state[3] as number) ^ m
  for (let i = 0; i < c; i++) sipRound()
  state[0] = (state[0] as number) ^ m
}

function sipRound (): void {
  let v0 = state[0] as number
  let v1 = state[1] as number
  let v2 = state[2] as number
  let v3 = state[3] as number
  v0 = (v0 + v1) | 0; v1 = rotl(v1, 5) ^ v0; v0 = rotl(v0, 16)
  v2 = (v2 + v3) | 0; v3 = rotl(v3, 8) ^ v2
  v0 = (v0 + v3) | 0; v3 = rotl(v3, 7) ^ v0
  v2 = (v2 + v1) | 0; v1 = rotl(v1, 13) ^ v2; v2 = rotl(v2, 16)
  state[0] = v0; state[1] = v1; state[2] = v2; state[3] = v3
}

// The key words of the id being looked up (single-threaded: one scratch is enough).
const words = new Int32Array(4)
let parsedId: string | null = null

function hexDigit (code: number): number {
  if (code >= 48 && code <= 57) return code - 48
  if (code >= 97 && code <= 102) return code - 87
  return -1
}

/**
 * Writes the id's 128 bits into `words`: a UUID in lowercase hex as itself,
 * any other string as the first 128 bits of its sha256 (no UUID can be aimed
 * at it), so the set takes every string a ReplayGuard may be given.
 */
function keyOf (id: string): void {
  // admission looks an id up and then holds it: parse it once
  if (id === parsedId) return
  parsedId = id
  if (id.length === 36 && parseUuid(id)) return
  // UTF-16 code units as they are: two strings that differ only in lone surrogates stay two ids
  const digest = createHash('sha256').update('govex-id:').update(Buffer.from(id, 'utf16le')).digest()
  for (let i = 0; i < 4; i++) words[i] = digest.readInt32LE(i * 4)
}

function parseUuid (id: string): boolean {
  let word = 0
  let nibbles = 0
  for (let i = 0; i < 36; i++) {
    const code = id.charCodeAt(i)
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (code !== 45) return false
      continue
    }
    const v = hexDigit(code)
    if (v < 0) return false
    word = (word << 4) | v
    if (++nibbles % 8 === 0) {
      words[(nibbles >> 3) - 1] = word
      word = 0
    }
  }
  return true
}

export class ExpiringIdSet {
  readonly #k0: number
  readonly #k1: number
  // the ring, in claim order: slot r holds keys[4r..4r+3], hashes[r], expires[r] (DEAD once released or renewed)
  #keys = new Int32Array(MIN_RING * 4)
  #hashes = new Int32Array(MIN_RING)
  #expires = new Float64Array(MIN_RING)
  #ringMask = MIN_RING - 1
  // absolute positions: slot = position & ringMask; head..tail are in the ring
  #head = 0
  #tail = 0
  #dead = 0
  // the index: ring slot + 1, 0 = empty; twice the ring, so at most half full
  #index = new Int32Array(MIN_RING * 2)
  #indexMask = MIN_RING * 2 - 1
  #hashedId: string | null = null
  #hashed = 0

  constructor () {
    const key = randomBytes(8)
    this.#k0 = key.readInt32LE(0)
    this.#k1 = key.readInt32LE(4)
  }

  /** entries held and not released (expired ones may stay until pruned) */
  get size (): number {
    return this.#tail - this.#head - this.#dead
  }

  /** the expiry (ms) of `id`, or 0 when it is not held */
  expiryOf (id: string, now: number): number {
    this.prune(now)
    const at = this.#find(this.#key(id))
    if (at < 0) return 0
    const expires = this.#expires[(this.#index[at] as number) - 1] as number
    return expires > now ? expires : 0
  }

  /** holds `id` until `expiresAt` (ms), replacing an earlier hold of it */
  hold (id: string, expiresAt: number, now: number): void {
    this.prune(now)
    const hash = this.#key(id)
    const at = this.#find(hash)
    if (at >= 0) this.#unlink(at)
    this.#append(hash, expiresAt, now)
  }

  /** forgets `id` */
  drop (id: string): void {
    const at = this.#find(this.#key(id))
    if (at >= 0) this.#unlink(at)
  }

  /** drops expired entries at the head (a full ring drops the rest when it next needs room) */
  prune (now: number): void {
    const mask = this.#ringMask
    while (this.#head < this.#tail) {
      const slot = this.#head & mask
      const expires = this.#expires[slot] as number
      if (expires === DEAD) {
        this.#dead--
      } else if (expires <= now) {
        this.#removeIndexOf(slot)
      } else {
        break
      }
      this.#head++
    }
    // after a spike, memory goes back as the ids leave: the ring doubles when
    // it fills with live ids and halves once under an eighth full (no thrash)
    const capacity = mask + 1
    if (capacity > MIN_RING && (this.#tail - this.#head) * 8 < capacity) this.#rebuild(capacity / 2, now)
  }

  /** ring slots allocated (36 bytes each with the index) */
  get capacity (): number {
    return this.#ringMask + 1
  }

  /** puts the id's key in `words` and answers its hash */
  #key (id: string): number {
    keyOf(id)
    if (id !== this.#hashedId) {
      this.#hashedId = id
      this.#hashed = halfSipHash128(this.#k0, this.#k1, words[0] as number, words[1] as number, words[2] as number, words[3] as number)
    }
    return this.#hashed
  }

  /** the index position holding the id in `words`, or -1 */
  #find (hash: number): number {
    const index = this.#index
    const keys = this.#keys
    for (let at = hash & this.#indexMask; ; at = (at + 1) & this.#indexMask) {
      const held = index[at] as number
      if (held === 0) return -1
      const k = (held - 1) * 4
      if (keys[k] === words[0] && keys[k + 1] === words[1] && keys[k + 2] === words[2] && keys[k + 3] === words[3]) return at
    }
  }

  #append (hash: number, expiresAt: number, now: number): void {
    if (this.#tail - this.#head > this.#ringMask) {
      // full: drop what is spent, and double unless that freed a quarter.
      // Expired ids count as spent: behind a longer claim they fill the ring
      // too, and counting them (as size does) would double it for nothing.
      const capacity = this.#ringMask + 1
      this.#rebuild(this.#liveCount(now) > capacity * 0.75 ? capacity * 2 : capacity, now)
    }
    const slot = this.#tail & this.#ringMask
    const k = slot * 4
    this.#keys[k] = words[0] as number
    this.#keys[k + 1] = words[1] as number
    this.#keys[k + 2] = words[2] as number
    this.#keys[k + 3] = words[3] as number
    this.#hashes[slot] = hash
    this.#expires[slot] = expiresAt
    this.#tail++
    this.#insertIndex(slot, hash)
  }

  /** entries neither released nor expired at `now` */
  #liveCount (now: number): number {
    let live = 0
    for (let p = this.#head; p < this.#tail; p++) {
      const e = this.#expires[p & this.#ringMask] as number
      if (e !== DEAD && e > now) live++
    }
    return live
  }

  #insertIndex (slot: number, hash: number): void {
    let at = hash & this.#indexMask
    while (this.#index[at] !== 0) at = (at + 1) & this.#indexMask
    this.#index[at] = slot + 1
  }

  /** marks the entry at index position `at` dead and takes it out of the index */
  #unlink (at: number): void {
    const slot = (this.#index[at] as number) - 1
    this.#expires[slot] = DEAD
    this.#dead++
    this.#removeAt(at)
  }

  #removeIndexOf (slot: number): void {
    const index = this.#index
    for (let at = (this.#hashes[slot] as number) & this.#indexMask; ; at = (at + 1) & this.#indexMask) {
      if (index[at] === slot + 1) {
        this.#removeAt(at)
        return
      }
    }
  }

  /** linear probing's backward-shift delete: no tombstones, probes stay short */
  #removeAt (hole: number): void {
    const index = this.#index
    const mask = this.#indexMask
    let at = hole
    for (;;) {
      at = (at + 1) & mask
      const held = index[at] as number
      if (held === 0) break
      const home = (this.#hashes[held - 1] as number) & mask
      // the entry at `at` may move into the hole unless its home lies cyclically in (hole, at]
      const stays = hole <= at ? (home > hole && home <= at) : (home > hole || home <= at)
      if (!stays) {
        index[hole] = held
        hole = at
      }
    }
    index[hole] = 0
  }

  /** copies the live entries, in order, into a ring of `capacity` and indexes them again */
  #rebuild (capacity: number, now: number): void {
    const keys = new Int32Array(capacity * 4)
    const hashes = new Int32Array(capacity)
    const expires = new Float64Array(capacity)
    let n = 0
    for (let p = this.#head; p < this.#tail; p++) {
      const slot = p & this.#ringMask
      const e = this.#expires[slot] as number
      if (e === DEAD || e <= now) continue
      const from = this.#keys
      keys[n * 4] = from[slot * 4] as number
      keys[n * 4 + 1] = from[slot * 4 + 1] as number
      keys[n * 4 + 2] = from[slot * 4 + 2] as number
      keys[n * 4 + 3] = from[slot * 4 + 3] as number
      hashes[n] = this.#hashes[slot] as number
      expires[n] = e
      n++
    }
    this.#keys = keys
    this.#hashes = hashes
    this.#expires = expires
    this.#ringMask = capacity - 1
    this.#head = 0
    this.#tail = n
    this.#dead = 0
    this.#index = new Int32Array(capacity * 2)
    this.#indexMask = capacity * 2 - 1
    for (let slot = 0; slot < n; slot++) this.#insertIndex(slot, hashes[slot] as number)
  }
}
