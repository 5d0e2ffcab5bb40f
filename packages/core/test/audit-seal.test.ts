// The audit record serialiser on the append path (record-json.ts: one native
// JSON.stringify of the members in canonical order) against the canonicalize
// package, the RFC 8785 reference: byte-identical on generated exchange and
// admin records — odd strings, numbers, nulls, nesting the log never writes,
// members missing or extra — and the same refusals (lone surrogates, NaN).
import t from 'tap'
import fc from 'fast-check'
import canonicalize from 'canonicalize'
import { recordBody } from '../src/audit/record-json.js'
import { inspectLine } from '../src/audit/line-scan.js'
import { sealLine, recordHash } from '../src/audit/chain.js'
import { sha256, ZERO_DIGEST } from '../src/canonical.js'
import type { AuditEntry } from '../src/schemas/audit.js'

const text = fc.oneof(
  { arbitrary: fc.string(), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary' }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme' }), weight: 1 },
  // lone surrogates (refused), their escapes spelt out as text (not refused), emoji, controls, quotes
  { arbitrary: fc.constantFrom('\ud800', 'a\udfffb', '\\ud800', '\\\\ud800', '\u{1F600}', '\u0000\u001f\u007f', 'a"b\\c', '\u2028\u2029', ''), weight: 1 }
)
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, 2 ** 53, Number.NaN, Infinity))
const flat = fc.oneof(text, number, fc.boolean(), fc.constant(null))
/** Values the log writes, and some it never does. */
const odd = fc.oneof(
  { arbitrary: flat, weight: 8 },
  { arbitrary: fc.constant(undefined), weight: 1 },
  { arbitrary: fc.dictionary(fc.string(), flat, { maxKeys: 3 }), weight: 1 },
  { arbitrary: fc.array(flat, { maxLength: 3 }), weight: 1 },
  { arbitrary: fc.constantFrom(new Date(0), Object.create(null) as object, { toJSON: () => 'x' }), weight: 1 }
)
const pair = (a: string, b: string): fc.Arbitrary<unknown> => fc.oneof(
  { arbitrary: fc.constant(null), weight: 2 },
  { arbitrary: fc.record({ [a]: flat, [b]: flat }), weight: 6 },
  // keys out of order, one missing, one more
  { arbitrary: fc.tuple(flat, flat).map(([x, y]) => ({ [b]: y, [a]: x })), weight: 1 },
  { arbitrary: fc.record({ [a]: flat }), weight: 1 },
  { arbitrary: fc.record({ [a]: flat, [b]: flat, extra: flat }), weight: 1 },
  { arbitrary: odd, weight: 1 }
)
const fields = fc.oneof(
  { arbitrary: fc.constant(null), weight: 1 },
  { arbitrary: fc.array(text, { maxLength: 5 }), weight: 6 },
  { arbitrary: fc.array(odd, { maxLength: 3 }), weight: 1 },
  { arbitrary: fc.constant([, 'hole'] as unknown[]), weight: 1 }, // eslint-disable-line no-sparse-arrays
  { arbitrary: odd, weight: 1 }
)
const member = (arb: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: arb, weight: 12 }, { arbitrary: odd, weight: 1 })

const exchange = fc.record({
  gatewayId: member(text), seq: member(fc.nat()), ts: member(text), kind: fc.constant('exchange'), id: member(text),
  consumer: member(text), provider: member(fc.option(text)), resource: member(fc.option(text)), userId: member(fc.option(text)),
  purpose: member(fc.option(text)), caseRef: member(fc.option(text)), plan: pair('id', 'version'), grantId: member(fc.option(text)),
  fields, outcome: member(fc.constantFrom('allowed', 'denied', 'error')), code: member(fc.option(text)), status: member(fc.integer()),
  latencyMs: member(number), digests: pair('request', 'response'), prevHash: member(text)
})
const admin = fc.record({
  gatewayId: member(text), seq: member(fc.nat()), ts: member(text), kind: fc.constant('admin'), id: member(text),
  actor: member(text), action: member(text), target: member(fc.option(text)), digest: member(fc.option(text)),
  outcome: member(fc.constantFrom('allowed', 'denied', 'error')), code: member(fc.option(text)), status: member(fc.integer()), prevHash: member(text)
})
/** A record as stored (with hash) or as sealed (without), sometimes with a member more or less. */
const record = fc.tuple(fc.oneof(exchange, admin), fc.constantFrom('as-is', 'hash', 'drop', 'extra')).map(([r, how]) => {
  const out: Record<string, unknown> = { ...r }
  if (how === 'hash') out.hash = ZERO_DIGEST
  if (how === 'drop') delete out.status
  if (how === 'extra') out.note = 'x'
  return out
})

function reference (r: Record<string, unknown>): { text?: string, error?: true } {
  const { hash: _hash, ...rest } = r
  try {
    const text = canonicalize(rest)
    return text === undefined ? { error: true } : { text }
  } catch {
    return { error: true }
  }
}

t.test('recordBody is byte-identical to canonicalize on generated records, and refuses what it refuses', async t => {
  let fast = 0
  let refused = 0
  fc.assert(fc.property(record, r => {
    const want = reference(r)
    let got: string | undefined
    try {
      got = recordBody(r)
    } catch {
      refused++
      return want.error === true
    }
    if (want.text !== got) return false
    fast++
    return true
  }), { numRuns: 20_000 })
  t.ok(fast > 10_000, `${fast} serialised, ${refused} refused alike`)
  t.ok(refused > 100, 'lone surrogates and non-finite numbers were generated')
})

t.test('the append path: sealLine\'s hash is sha256 of the reference bytes, its line sealed', async t => {
  fc.assert(fc.property(exchange, fc.nat(), (entry, seq) => {
    const chain = { gatewayId: 'tj.gw.extranet-1', seq: seq + 1, ts: '2026-11-27T08:00:00.000Z', prevHash: ZERO_DIGEST }
    const want = reference({ ...entry, ...chain })
    let sealed
    try {
      sealed = sealLine(entry as unknown as AuditEntry, chain)
    } catch (err) {
      return want.error === true && (err as { code?: string }).code === 'GOVEX_ERR_BAD_REQUEST'
    }
    // and what verify reads back from the line is sealed
    return want.text !== undefined && sealed.record.hash === sha256(want.text) && recordHash(sealed.record) === sealed.record.hash &&
      inspectLine(sealed.line).sealed
  }), { numRuns: 5000 })
  t.pass()
})

t.test('the chain\'s fields win over an entry\'s own, and keep their place', async t => {
  const entry = { kind: 'admin', id: 'a', actor: 'tj.it', action: 'member.put', target: null, digest: null, outcome: 'allowed', code: null, status: 200, seq: 99, gatewayId: 'x', hash: 'h' } as unknown as AuditEntry
  const { record } = sealLine(entry, { gatewayId: 'tj.gw.a', seq: 3, ts: '2026-11-27T08:00:00.000Z', prevHash: ZERO_DIGEST })
  t.same(Object.keys(record).slice(0, 3), ['gatewayId', 'seq', 'ts'])
  t.equal(record.seq, 3)
  t.equal(record.gatewayId, 'tj.gw.a')
  t.equal(record.hash, recordHash(record))
})
