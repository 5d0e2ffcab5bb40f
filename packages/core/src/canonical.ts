// Canonical JSON (RFC 8785) and the `sha256:<hex>` digests that plans,
// approvals and audit records are built on.
//
// RFC 8785 serialises strings and numbers exactly as ECMAScript's JSON.stringify
// does and orders object members by UTF-16 code units. So for plain JSON data a
// copy with every object's keys inserted in sorted order, handed to the native
// JSON.stringify, gives the canonical bytes ~10× faster than walking the value in
// JS (a plan of 100,000 grants: seconds → a few hundred ms). Only the objects
// whose keys are out of order, and their ancestors, are copied. Anything that copy
// cannot carry faithfully — keys V8 would reorder (array indices), `__proto__`,
// toJSON, boxed primitives, non-finite numbers, lone surrogates, cycles, very
// deep nesting — goes to the `canonicalize` package, which stays the reference
// (test/canonical.test.ts proves both byte-identical on generated documents).
// It is pinned at 5.x although 5.x declares Node >= 22: the only newer API it
// uses, String.prototype.isWellFormed, is in Node 20, and 4.x (Node >= 18)
// writes undefined inside arrays and objects as invalid JSON ([null,,null]),
// which test/canonical.test.ts catches.
import { isWellFormedText } from './json-values.js'
import * as crypto from 'node:crypto'
import { Slices } from './turns.js'
import canonicalize from 'canonicalize'

export const ZERO_DIGEST = 'sha256:' + '0'.repeat(64)
export const DIGEST_PATTERN = '^sha256:[0-9a-f]{64}$'

/** Thrown inside the fast path when the value needs the reference serialiser. */
const SLOW: unique symbol = Symbol('slow')

const MAX_DEPTH = 1000

/** Whether V8 treats `key` as an array index (enumerated first, in numeric order, whatever the insertion order). */
function isIndexKey (key: string): boolean {
  const first = key.charCodeAt(0)
  if (first < 48 || first > 57 || key.length > 10) return false
  if (first === 48) return key.length === 1
  for (let i = 1; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return Number(key) < 4294967295
}


function checkString (value: string): void {
  if (!isWellFormedText(value)) throw SLOW
}

/** An object's keys as Object.keys lists them, and as RFC 8785 orders them. */
interface KeyOrder {
  readonly keys: readonly string[]
  /** null when `keys` is in order already */
  readonly sorted: readonly string[] | null
}

// Documents repeat a few object shapes many times (100,000 grants, each with
// the same keys in the same order): the sorted order and the checks of each key
// list are remembered, found by its first key and compared key by key (keys
// from Object.keys are internalised strings, so each comparison is a pointer
// check). Bounded: past MAX_ORDERS shapes it starts afresh.
const orders = new Map<string, KeyOrder[]>()
const MAX_ORDERS = 256
let orderCount = 0

function sameKeys (a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function keyOrder (keys: string[]): KeyOrder {
  const first = keys.length === 0 ? '' : keys[0] as string
  const known = orders.get(first)
  if (known !== undefined) {
    for (let i = 0; i < known.length; i++) {
      const order = known[i] as KeyOrder
      if (sameKeys(order.keys, keys)) return order
    }
  }
  let inOrder = true
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    if (isIndexKey(key) || key === '__proto__') throw SLOW
    checkString(key)
    if (i > 0 && !((keys[i - 1] as string) < key)) inOrder = false
  }
  const order: KeyOrder = { keys, sorted: inOrder ? null : keys.slice().sort() }
  if (orderCount === MAX_ORDERS) {
    orders.clear()
    orderCount = 0
  }
  const list = orders.get(first)
  if (list === undefined) orders.set(first, [order])
  else list.push(order)
  orderCount++
  return order
}

/**
 * The value with every object's keys in RFC 8785 order, for JSON.stringify.
 * Copy on write: an array or object whose keys are in order already, and whose
 * members need no change, is handed back as it is, so a document that is mostly
 * in order is barely copied.
 */
function sortedCopy (value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      checkString(value)
      return value
    case 'number':
      if (!Number.isFinite(value)) throw SLOW
      return value
    case 'boolean':
      return value
    case 'object':
      break
    default:
      // undefined, functions and symbols: JSON.stringify drops or nulls them as canonicalize does
      if (typeof value === 'bigint') throw SLOW
      return value
  }
  if (value === null) return null
  if (depth > MAX_DEPTH) throw SLOW
  if (Array.isArray(value)) {
    // An array handed back as it is must not bring a toJSON of its own to JSON.stringify.
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') throw SLOW
    let out: unknown[] | null = null
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      const copy = sortedCopy(item, depth + 1)
      if (out === null) {
        if (copy === item) continue
        out = value.slice(0, i)
      }
      out.push(copy)
    }
    return out ?? value
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) throw SLOW
  const object = value as Record<string, unknown>
  if (typeof object.toJSON === 'function') throw SLOW
  const order = keyOrder(Object.keys(object))
  const sorted = order.sorted
  if (sorted === null) {
    // In order already: copied only if a member changes.
    const keys = order.keys
    let out: Record<string, unknown> | null = null
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string
      const member = object[key]
      const copy = sortedCopy(member, depth + 1)
      if (out === null) {
        if (copy === member) continue
        out = {}
        for (let j = 0; j < i; j++) out[keys[j] as string] = object[keys[j] as string]
      }
      out[key] = copy
    }
    return out ?? object
  }
  const out: Record<string, unknown> = {}
  for (let i = 0; i < sorted.length; i++) {
    const key = sorted[i] as string
    out[key] = sortedCopy(object[key], depth + 1)
  }
  return out
}

/** RFC 8785 canonical JSON of a JSON value. Throws a TypeError on values JSON cannot hold. */
export function canonicalJson (value: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(sortedCopy(value, 0))
  } catch (err) {
    // a cycle or a stack overflow also lands here; the reference serialiser says what is wrong
    if (err !== SLOW && !(err instanceof RangeError) && !(err instanceof TypeError)) throw err
    text = canonicalize(value)
  }
  if (text === undefined) throw new TypeError('value has no JSON form')
  return text
}

/** The reference serialiser alone (the `canonicalize` package), for tests and benchmarks. */
export function canonicalJsonReference (value: unknown): string {
  const text = canonicalize(value)
  if (text === undefined) throw new TypeError('value has no JSON form')
  return text
}

// crypto.hash (Node ≥ 20.12) digests in one call, without a Hash object: about
// twice as fast on the short inputs digests are taken of (audit records, answers)
type OneShot = (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string
const oneShot = (crypto as { hash?: OneShot }).hash

/** `sha256:<hex>` of bytes or of a UTF-8 string. */
export const sha256: (data: string | Uint8Array) => string = oneShot !== undefined
  ? data => 'sha256:' + oneShot('sha256', data, 'hex')
  : data => 'sha256:' + crypto.createHash('sha256').update(data).digest('hex')

/** `sha256:<hex>` of the canonical JSON of a value. */
export function digestOf (value: unknown): string {
  return sha256(canonicalJson(value))
}

function hasToJson (value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function'
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || hasToJson(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** What JSON.stringify leaves out of an object, or writes as null in an array. */
function hasNoJson (value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol'
}

/**
 * digestOf() of a large document without one long block of the event loop:
 * each element of a top-level array member (a plan's grants) is serialised and
 * hashed on its own, and other work gets a turn every `sliceMs`. The same
 * digest as digestOf(value), and no copy of the whole canonical text is made.
 */
export async function digestInTurns (value: unknown, sliceMs = 10): Promise<string> {
  // Only a plain object is taken in pieces; a member or item with a toJSON of
  // its own (never in parsed JSON) sends the whole value to digestOf.
  if (!isPlainObject(value)) return digestOf(value)
  const hash = crypto.createHash('sha256')
  const slices = new Slices(sliceMs)
  hash.update('{')
  let first = true
  for (const key of Object.keys(value).sort()) {
    const member = value[key]
    if (hasNoJson(member)) continue
    if (hasToJson(member)) return digestOf(value)
    hash.update((first ? '' : ',') + canonicalJson(key) + ':')
    first = false
    if (!Array.isArray(member)) {
      hash.update(canonicalJson(member))
      continue
    }
    hash.update('[')
    for (let i = 0; i < member.length; i++) {
      const item: unknown = member[i]
      if (hasToJson(item)) return digestOf(value)
      hash.update((i === 0 ? '' : ',') + (hasNoJson(item) ? 'null' : canonicalJson(item)))
      if (slices.due) await slices.next()
    }
    hash.update(']')
  }
  hash.update('}')
  return 'sha256:' + hash.digest('hex')
}
