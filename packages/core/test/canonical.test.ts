// canonicalJson's fast path (sorted copy + native JSON.stringify) against the
// `canonicalize` package, the RFC 8785 reference: byte-identical on generated
// JSON documents and plans, and the same refusals on values JSON cannot hold.
import t from 'tap'
import fc from 'fast-check'
import canonicalize from 'canonicalize'
import { canonicalJson, canonicalJsonReference, digestInTurns, digestOf, sha256 } from '../src/canonical.js'

// Keys that stress ordering: array-index-like, digits, unicode, surrogate pairs, empty, __proto__.
const key = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('0', '1', '9', '10', '01', '4294967294', '4294967295', '-1', '1.5', '', '__proto__', 'constructor', 'toJSON', 'é', '\u{1F600}', 'a\u0000b', 'Z', 'a', 'ä')
)
const number = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, 2 ** 53, 0.1 + 0.2))
const leaf = fc.oneof(fc.string({ unit: 'binary' }), fc.string(), number, fc.boolean(), fc.constant(null))
const { json } = fc.letrec(tie => ({
  json: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 6 }),
  object: fc.dictionary(key, tie('json'), { maxKeys: 8 })
}))

t.test('byte-identical to canonicalize on generated JSON values', async t => {
  let checked = 0
  fc.assert(fc.property(json, value => {
    let expected: string | undefined
    let expectedError: unknown
    try { expected = canonicalize(value) } catch (err) { expectedError = err }
    if (expectedError !== undefined) {
      t.throws(() => canonicalJson(value))
    } else {
      if (canonicalJson(value) !== expected) return false
    }
    checked++
    return true
  }), { numRuns: 3000 })
  t.equal(checked, 3000)
})

t.test('byte-identical on plan-shaped documents', async t => {
  const grant = fc.record({
    id: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    consumer: fc.stringMatching(/^tj\.[a-z]{1,8}$/),
    resource: fc.stringMatching(/^tj\.[a-z]{1,8}:[a-z-]{1,12}$/),
    fields: fc.array(fc.string(), { maxLength: 8 }),
    purposes: fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 3 }),
    conditions: fc.record({ requireCaseRef: fc.boolean(), requireUserId: fc.boolean() }, { requiredKeys: [] }),
    quota: fc.record({ perMinute: fc.nat(), perDay: fc.nat() }, { requiredKeys: [] }),
    validFrom: fc.date({ noInvalidDate: true }).map(d => d.toISOString())
  }, { requiredKeys: ['id', 'consumer', 'resource', 'fields', 'purposes'] })
  const plan = fc.record({
    id: fc.string(), version: fc.nat(), title: fc.string({ unit: 'grapheme' }),
    validFrom: fc.string(), validUntil: fc.string(), grants: fc.array(grant, { maxLength: 40 })
  })
  fc.assert(fc.property(plan, p => canonicalJson(p) === canonicalize(p)), { numRuns: 500 })
  t.pass('500 plans')
})

t.test('keys V8 would reorder, and values the copy cannot carry, take the reference path', async t => {
  const cases: unknown[] = [
    { 10: 'a', 9: 'b', a: 1, '': 2 },
    { b: [1, { 2: 'x', 1: 'y' }], a: { __proto__: 5 } },
    JSON.parse('{"__proto__": {"x": 1}, "a": 2}'),
    { d: new Date(0), n: Object(5), s: Object('x') },
    { u: undefined, f: () => 1, arr: [undefined, () => 1, Symbol('s')] },
    Object.assign(Object.create(null), { b: 1, a: 2 }),
    { toJSON: () => ({ z: 1, a: 2 }) },
    [-0, 1e21, 1e-7, 0.1 + 0.2, 'é\u{1F600}\u2028\u0007"\\']
  ]
  for (const value of cases) t.equal(canonicalJson(value), canonicalize(value))
  // deeper than the fast path goes
  let deep: unknown = 'leaf'
  for (let i = 0; i < 1500; i++) deep = { [`k${i % 3}`]: deep, a: i }
  t.equal(canonicalJson(deep), canonicalize(deep))
})

t.test('repeated shapes: key orders are remembered, and still byte-identical', async t => {
  // Many objects of a few shapes (in order, out of order, nested), then more shapes than are remembered.
  const rows = Array.from({ length: 500 }, (_, i) => ({ z: i, a: { b: [i, { y: 1, x: 2 }], a: 'é' }, m: i % 2 === 0 ? { a: 1, b: 2 } : { b: 2, a: 1 } }))
  t.equal(canonicalJson(rows), canonicalize(rows))
  const shapes = Array.from({ length: 700 }, (_, i) => ({ [`k${i}`]: i, [`a${i}`]: { [`q${i % 300}`]: [i], b: 1 } }))
  t.equal(canonicalJson(shapes), canonicalize(shapes))
  t.equal(canonicalJson(shapes), canonicalize(shapes), 'again, after the shapes were forgotten')
  // A remembered key list is not taken for a list that only starts the same way.
  t.equal(canonicalJson([{ a: 1, b: 2 }, { a: 1, b: 2, '0': 3 }, { a: 1 }]), canonicalize([{ a: 1, b: 2 }, { a: 1, b: 2, 0: 3 }, { a: 1 }]))
  t.throws(() => canonicalJson([{ b: 1, a: 2 }, { b: 1, a: 2, '\uD800': 3 }]), 'a longer key list is checked, not taken for a remembered one')
})

t.test('copies only what needs reordering, and never changes its input', async t => {
  const inner = { a: 1, b: [1, 2, { d: 4, c: 3 }] }
  const doc = { a: inner, b: { a: [true], b: null }, c: 'x' }
  const before = JSON.stringify(doc)
  t.equal(canonicalJson(doc), '{"a":{"a":1,"b":[1,2,{"c":3,"d":4}]},"b":{"a":[true],"b":null},"c":"x"}')
  t.equal(JSON.stringify(doc), before, 'the input keeps its key order')
  const ordered = { a: [1, 'two', { b: 2, c: [] }], b: { x: { y: 'z' } } }
  t.equal(canonicalJson(ordered), JSON.stringify(ordered))
})

t.test('an array or object with its own toJSON takes the reference path', async t => {
  const array = Object.assign([3, 1], { toJSON: () => ({ b: 1, a: 2 }) })
  t.equal(canonicalJson({ v: array }), canonicalize({ v: array }))
  t.equal(canonicalJson([{ a: 1, toJSON: () => 'x' }]), canonicalize([{ a: 1, toJSON: () => 'x' }]))
})

t.test('refuses what JSON cannot hold, as the reference does', async t => {
  const cycle: Record<string, unknown> = { a: 1 }
  cycle.self = cycle
  for (const bad of [{ x: NaN }, { x: Infinity }, ['\uD800'], { '\uDC00': 1 }, cycle, { n: 10n }]) {
    t.throws(() => canonicalJson(bad))
    t.throws(() => canonicalJsonReference(bad))
  }
  t.throws(() => canonicalJson(undefined), TypeError)
})

t.test('digests', async t => {
  t.equal(digestOf({ b: 1, a: [true, null] }), sha256('{"a":[true,null],"b":1}'))
  t.equal(sha256(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
})

t.test('digestInTurns gives digestOf, in pieces and turns', async t => {
  const values = fc.sample(fc.oneof(
    fc.dictionary(fc.string(), fc.array(fc.jsonValue(), { maxLength: 8 })),
    fc.record({ grants: fc.array(fc.object(), { maxLength: 20 }), id: fc.string(), version: fc.integer() }),
    fc.jsonValue()
  ), 300)
  let refused = 0
  for (const value of values) {
    let expected: string
    try {
      expected = digestOf(value)
    } catch {
      refused++
      await t.rejects(digestInTurns(value, 0), 'what digestOf refuses, it refuses')
      continue
    }
    t.equal(await digestInTurns(value, 0), expected)
  }
  t.ok(refused < values.length / 2, `most samples digest (${refused} refused)`)
  // what JSON.stringify leaves out or nulls, holes, toJSON, and unsorted keys
  const odd = { z: [undefined, () => 1, , { b: 2, a: 1 }], y: undefined, x: Object.assign([1], { toJSON: () => 'j' }), w: { toJSON: () => [2, 1] } }
  t.equal(await digestInTurns(odd, 0), digestOf(odd))
  // toJSON that answers undefined, in a member or an item; a boxed string; a null-prototype object
  for (const value of [{ a: { toJSON: () => undefined } }, { a: [{ toJSON: () => undefined }, 1] }, { a: Object.assign([1], { toJSON: () => undefined }), b: [2] }, new String('ab'), Object.assign(Object.create(null) as object, { b: [1], a: 2 })]) {
    t.equal(await digestInTurns(value, 0), digestOf(value))
  }
  for (const bad of [{ x: [NaN] }, { '\uDC00': [1] }, { a: ['\uD800'] }]) {
    await t.rejects(digestInTurns(bad, 0))
    t.throws(() => digestOf(bad))
  }
  // other work runs between its turns
  let ticks = 0
  const timer = setInterval(() => { ticks++ }, 0)
  const big = { grants: Array.from({ length: 30_000 }, (_, i) => ({ id: `g-${i}`, fields: ['a', 'b'], n: i })) }
  t.equal(await digestInTurns(big, 1), digestOf(big))
  clearInterval(timer)
  t.ok(ticks > 0, `a timer ran ${ticks} times while it digested`)
})
