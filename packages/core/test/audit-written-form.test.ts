// Verify's fast path (canonical-line.ts, line-scan.ts, chunk-check.ts) against
// the definition of a record's hash (MODEL.md: sha256 of the canonical JSON of
// the record without `hash`). A line is checked by hashing its bytes only when
// they ARE that canonical JSON; so a line re-spelt (numbers, escapes, key
// order, white space, bad UTF-8) and re-hashed over its own bytes must be
// judged as the definition judges it — not sealed — and verify must name it.
import t from 'tap'
import fc from 'fast-check'
import canonicalize from 'canonicalize'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { sealLine } from '../src/audit/chain.js'
import { LineFields, readLine } from '../src/audit/canonical-line.js'
import { eachLine, inspectLine, type LineFacts } from '../src/audit/line-scan.js'
import { checkChunk } from '../src/audit/chunk-check.js'
import { ChainSet, isSealed, verifyLines } from '../src/audit/verify.js'
import { lineSealed } from '../src/audit/record-json.js'
import { verifyFile } from '../src/audit/verify-file.js'
import { exchangeEntry, adminEntry } from '../src/store/audit-contract.js'
import { changeField, deleteRecord, swapRecords, truncateTail, rewriteFrom } from '../src/store/audit-tamper.js'
import { checkpointAfter, checkpointKeysOf, checkpointSigner } from '../src/audit/checkpoint.js'
import { generateKeyPair } from '../src/keys.js'
import { FileAuditLog } from '../src/store/file/audit-log.js'
import { ZERO_DIGEST } from '../src/canonical.js'
import type { AuditEntry, AuditRecord } from '../src/schemas/audit.js'

const GW = 'tj.gw.extranet-1'
const TS = '2026-11-27T08:00:00.000Z'
const gateway = generateKeyPair('gw-1')
const keys = checkpointKeysOf([{ id: GW, name: 'Gateway', roles: ['gateway'], keys: [gateway.publicJwk] }])

/** The definition: parse, drop hash, canonical JSON, sha256. */
function sealedByDefinition (line: string): boolean {
  let record: unknown
  try {
    record = JSON.parse(line)
  } catch {
    return false
  }
  return isSealed(record)
}

/** A line's body re-hashed over its own bytes, and `hash` put last: what a forger with write access could write. */
function rehashed (body: string): string {
  const hash = 'sha256:' + createHash('sha256').update(body).digest('hex')
  return body.slice(0, -1) + ',"hash":"' + hash + '"}'
}

/** The facts of a line by the byte path (eachLine), as verify over a file sees them. */
function bytesFacts (line: string | Buffer): LineFacts {
  const b = Buffer.concat([Buffer.isBuffer(line) ? line : Buffer.from(line), Buffer.from('\n')])
  let out: LineFacts | undefined
  eachLine(b, facts => { out = facts; return true })
  return out as LineFacts
}

function seal (entry: AuditEntry, seq = 7): { record: AuditRecord, line: string } {
  return sealLine(entry, { gatewayId: GW, seq, ts: TS, prevHash: ZERO_DIGEST })
}

const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.constantFrom('a"b', 'c\\d', 'tab\there', 'nl\nx', '\u007f', '\u2028', 'é', '\u{1F600}', '\u0000', '\u001f', '/'))
const nullable = fc.option(text, { nil: null })
const exchange = fc.record({
  kind: fc.constant('exchange' as const),
  id: text,
  consumer: fc.stringMatching(/^tj\.[a-z]{1,8}$/),
  provider: nullable,
  resource: nullable,
  userId: nullable,
  purpose: nullable,
  caseRef: nullable,
  plan: fc.option(fc.record({ id: text, version: fc.nat() }), { nil: null }),
  grantId: nullable,
  fields: fc.option(fc.array(text, { maxLength: 4 }), { nil: null }),
  outcome: fc.constantFrom('allowed' as const, 'denied' as const, 'error' as const),
  code: nullable,
  status: fc.integer({ min: 100, max: 599 }),
  latencyMs: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(0, -0, 1e21, 1e-7, 0.000001, 3.2, 123456789012345.6, 5e-324)),
  digests: fc.option(fc.record({ request: text, response: text }), { nil: null })
})

t.test('every line sealLine writes is read by the fast path, with the facts parsing gives', async t => {
  let fast = 0
  fc.assert(fc.property(exchange, fc.nat({ max: 2 ** 40 }), (entry, seq) => {
    let sealed: { record: AuditRecord, line: string }
    try {
      sealed = seal(entry as AuditEntry, seq + 1)
    } catch {
      // lone surrogates cannot be sealed at all
      return !JSON.stringify(entry).match(/\\ud[89a-f]/)
    }
    const parsed = JSON.parse(sealed.line) as AuditRecord
    for (const facts of [inspectLine(sealed.line), bytesFacts(sealed.line)]) {
      if (!facts.sealed || facts.seq !== parsed.seq || facts.prevHash !== parsed.prevHash || facts.hash !== parsed.hash ||
          facts.ts !== parsed.ts || facts.kind !== 'exchange' || facts.gatewayId !== GW) return false
    }
    if (inspectLine(sealed.line).record === undefined) fast++
    return lineSealed(sealed.line, sealed.record.hash)
  }), { numRuns: 2000 })
  t.ok(fast > 1900, `the fast path took ${fast} of 2000 (escaped ids go to the parser)`)
})

t.test('a re-spelt line re-hashed over its own bytes is judged as the definition judges it', async t => {
  const { line } = seal(exchangeEntry({ userId: 'officer-1', caseRef: 'C-1', latencyMs: 3.5 }))
  const body = line.slice(0, line.indexOf(',"hash":"')) + '}'
  const respelt: Array<[string, string]> = [
    ['status 200.0', body.replace('"status":200', '"status":200.0')],
    ['status 2e2', body.replace('"status":200', '"status":2e2')],
    ['status 2E+2', body.replace('"status":200', '"status":2E+2')],
    ['latency 3.50', body.replace('"latencyMs":3.5', '"latencyMs":3.50')],
    ['latency 35e-1', body.replace('"latencyMs":3.5', '"latencyMs":35e-1')],
    ['seq 7.0', body.replace('"seq":7', '"seq":7.0')],
    ['seq 07', body.replace('"seq":7', '"seq":07')],
    ['an escaped letter', body.replace('"officer-1"', '"officer-\\u0031"')],
    ['an escaped slash', body.replace('"officer-1"', '"officer\\/1"')],
    ['an upper-case escape', body.replace('"officer-1"', '"officer\\u001F1"')],
    ['a lone surrogate escape', body.replace('"officer-1"', '"officer\\ud8001"')],
    ['a raw tab', body.replace('"officer-1"', '"officer\t1"')],
    ['a space after a colon', body.replace('"userId":', '"userId": ')],
    ['a space before the brace', body.slice(0, -1) + ' }'],
    ['keys out of order', body.replace('"caseRef":"C-1",', '').replace('"code":null', '"code":null,"caseRef":"C-1"')],
    ['a key twice', body.replace('"caseRef":"C-1"', '"caseRef":"C-1","caseRef":"C-1"')],
    ['a nested key out of order', body.replace('"plan":{"id":"tj-sharing-plan","version":3}', '"plan":{"version":3,"id":"tj-sharing-plan"}')],
    ['a top-level hash member', body.replace('"grantId"', '"hash":"x","grantId"')],
    ['-0', body.replace('"latencyMs":3.5', '"latencyMs":-0')],
    ['1e-7 spelt out', body.replace('"latencyMs":3.5', '"latencyMs":0.0000001')],
    ['not JSON', body.replace('"status":200', '"status":20x')],
    ['true spelt wrong', body.replace('"code":null', '"code":nul')]
  ]
  for (const [name, variant] of respelt) {
    t.not(variant, body, `${name}: the variant differs`)
    const forged = rehashed(variant)
    const want = sealedByDefinition(forged)
    t.equal(inspectLine(forged).sealed, want, `${name}: inspectLine`)
    t.equal(bytesFacts(forged).sealed, want, `${name}: bytes`)
    t.equal(checkChunk(Buffer.from(forged + '\n')).clean, false, `${name}: a block holding it is walked line by line`)
    t.notOk(lineSealed(forged, forged.slice(-73, -2)), `${name}: lineSealed`)
  }
  // a canonical variant re-hashed is sealed (by definition too): only the chain shows it
  const canonical = rehashed(body.replace('"officer-1"', '"officer-2"'))
  t.equal(inspectLine(canonical).sealed, true)
  t.equal(sealedByDefinition(canonical), true)
})

t.test('bytes that are not UTF-8 are never taken as written', async t => {
  const { line } = seal(exchangeEntry({ userId: 'offic\u00e9r' }))
  const body = Buffer.from(line.slice(0, line.indexOf(',"hash":"')) + '}')
  const at = body.indexOf(Buffer.from('\u00e9'))
  for (const bad of [[0xc3], [0xff, 0xfe], [0xed, 0xa0, 0x80], [0xc0, 0xa9]]) {
    const variant = Buffer.concat([body.subarray(0, at), Buffer.from(bad), body.subarray(at + 2)])
    const hash = 'sha256:' + createHash('sha256').update(variant).digest('hex')
    const forged = Buffer.concat([variant.subarray(0, -1), Buffer.from(',"hash":"' + hash + '"}')])
    t.equal(bytesFacts(forged).sealed, sealedByDefinition(forged.toString('utf8')), `bytes ${bad.join(',')}`)
    t.equal(bytesFacts(forged).sealed, false)
  }
})

t.test('numbers: taken as canonical exactly when ECMAScript prints them so', async t => {
  const f = new LineFields()
  const accepted = (n: string): boolean => readLine(Buffer.from(`{"a":${n},"hash":"x"}\n`), 0, f)
  const printed = (n: string): boolean => {
    try {
      JSON.parse(n)
    } catch {
      return false
    }
    return String(Number(n)) === n
  }
  fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), d => accepted(JSON.stringify(d))), { numRuns: 3000 })
  const spelt = fc.tuple(fc.constantFrom('', '-'), fc.stringMatching(/^[0-9]{1,22}$/), fc.option(fc.stringMatching(/^[0-9]{1,20}$/)), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.stringMatching(/^[0-9]{1,3}$/))))
    .map(([sign, int, frac, exp]) => sign + int + (frac === null ? '' : '.' + frac) + (exp === null ? '' : exp.join('')))
  fc.assert(fc.property(spelt, n => accepted(n) === printed(n)), { numRuns: 5000 })
  for (const n of ['0', '-0', '1', '-1', '0.1', '0.000001', '0.0000001', '1e-7', '1e+21', '1e21', '100000000000000000000', '1000000000000000000000', '123456789012345', '1234567890123456', '9007199254740993', '0.30000000000000004', '5e-324', '1.7976931348623157e+308', '00', '01', '1.', '.5', '-', '1e', '2.50']) {
    t.equal(accepted(n), printed(n), n)
  }
})

/** Whether every key, at any depth, is printable ASCII needing no escape (the keys the fast path reads itself). */
function plainKeys (v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return true
  if (Array.isArray(v)) return v.every(plainKeys)
  return Object.entries(v).every(([k, x]) => /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(k) && plainKeys(x))
}

/**
 * Whether `v` has a member of the chain (ts, seq, kind, prevHash, gatewayId)
 * in a form the line reader leaves to the parser by design: seq not a whole
 * number of at most 15 digits, the others not a string written without escapes.
 */
function chainMemberForParser (v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const r = v as Record<string, unknown>
  if ('seq' in r && !(typeof r.seq === 'number' && Number.isInteger(r.seq) && r.seq >= 0 && String(r.seq).length <= 15)) return true
  return ['ts', 'kind', 'prevHash', 'gatewayId'].some(k => k in r && !(typeof r[k] === 'string' && JSON.stringify(r[k]) === `"${r[k] as string}"`))
}

t.test('strings and nesting: the fast path takes a line exactly when it is canonical', async t => {
  const f = new LineFields()
  const value = fc.jsonValue({ maxDepth: 4 })
  let taken = 0
  fc.assert(fc.property(value, fc.boolean(), (v, canonical) => {
    const body = canonical ? canonicalize(v) : JSON.stringify(v)
    if (body === undefined || !body.startsWith('{"')) return true
    const line = body.slice(0, -1) + ',"hash":"x"}'
    const isCanonical = canonicalize(JSON.parse(body)) === body
    if (readLine(Buffer.from(line + '\n'), 0, f)) {
      taken++
      return isCanonical
    }
    // left to the parser: only keys it does not read itself, a chain member of another form, or not canonical
    return !isCanonical || !plainKeys(v) || chainMemberForParser(v)
  }), { numRuns: 3000 })
  t.ok(taken > 100, `${taken} taken`)
})

t.test('verify names a re-spelt last record whose hash was recomputed (no later record shows it)', async t => {
  const lines: string[] = []
  let prevHash = ZERO_DIGEST
  for (let seq = 1; seq <= 5; seq++) {
    const sealed = sealLine(exchangeEntry({ latencyMs: 2.5 }), { gatewayId: GW, seq, ts: TS, prevHash })
    lines.push(sealed.line)
    prevHash = sealed.record.hash
  }
  const last = lines[4] as string
  const forgedBody = last.slice(0, last.indexOf(',"hash":"')).replace('"latencyMs":2.5', '"latencyMs":2.50') + '}'
  const tampered = [...lines.slice(0, 4), rehashed(forgedBody)]
  t.same(await verifyLines(lines), { ok: true, checked: 5 })
  t.same(await verifyLines(tampered), { ok: false, checked: 5, firstBad: { gatewayId: GW, seq: 5, reason: 'changed' } })
  const root = await mkdtemp(join(tmpdir(), 'govex-written-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  await writeFile(join(root, 'x.ndjson'), tampered.join('\n') + '\n')
  t.same(await verifyFile(join(root, 'x.ndjson')), { ok: false, checked: 5, firstBad: { gatewayId: GW, seq: 5, reason: 'changed' } })
})

/** 44 records, checkpoints at 11, 21, 31, 41, as one chain's stored lines. */
function chainLines (): string[] {
  const checkpoint = { every: 10, sign: checkpointSigner(gateway.privateJwk) }
  const lines: string[] = []
  let prevHash = ZERO_DIGEST
  let seq = 0
  for (let i = 0; i < 40; i++) {
    const sealed = sealLine(i % 6 === 5 ? adminEntry() : exchangeEntry({ userId: `officer-${i % 10}` }), { gatewayId: GW, seq: ++seq, ts: TS, prevHash })
    lines.push(sealed.line)
    prevHash = sealed.record.hash
    const cp = checkpointAfter(sealed.record, checkpoint)
    if (cp !== undefined) {
      lines.push(cp.line)
      seq = cp.record.seq
      prevHash = cp.record.hash
    }
  }
  return lines
}

t.test('blocks stitched in order give what a line by line walk gives, wherever the blocks are cut', async t => {
  const intact = chainLines()
  const forger = generateKeyPair('gw-1')
  const cases = [
    { name: 'intact', lines: intact },
    changeField(intact, 5, 'userId', 'officer-X'),
    deleteRecord(intact, 5),
    swapRecords(intact, 5, 6),
    swapRecords(intact, 11, 12),
    truncateTail(intact, 3),
    rewriteFrom(intact, 3, 'userId', 'officer-X', checkpointSigner(forger.privateJwk)),
    { name: 'another gateway interleaved', lines: intact.flatMap((l, i) => i === 20 ? [l, l.replace(GW, 'tj.gw.other-1')] : [l]) },
    { name: 'a blank line', lines: intact.flatMap((l, i) => i === 8 ? [l, ''] : [l]) }
  ]
  const head = { seq: 44, hash: (JSON.parse(intact[43] as string) as AuditRecord).hash }
  for (const { name, lines } of cases) {
    for (const options of [{ keys }, { keys, heads: new Map([[GW, head]]) }, {}]) {
      const want = await verifyLines(lines, options)
      for (const size of [1, 3, 7, 10, 44]) {
        const set = new ChainSet(options)
        let walked = 0
        for (let i = 0; i < lines.length && !set.done; i += size) {
          const b = Buffer.from(lines.slice(i, i + size).join('\n') + '\n')
          walked += set.feedChunk(b, checkChunk(Buffer.from(b)))
        }
        t.same(set.result(), want, `${name}, blocks of ${size}, ${Object.keys(options).join('+') || 'no options'}`)
        if (want.ok) t.equal(walked, lines.length)
      }
    }
  }
})

t.test('worker threads: a large enough log is checked in parallel, with the same answers', async t => {
  const root = await mkdtemp(join(tmpdir(), 'govex-pool-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  const checkpoint = { every: 10, sign: checkpointSigner(gateway.privateJwk) }
  const log = await FileAuditLog.open({ dir: root, gatewayId: GW, checkpoint, verifyThreads: 2 })
  t.teardown(async () => { await log.close() })
  for (let i = 0; i < 300; i++) void log.append(exchangeEntry({ userId: `officer-${i}` }))
  await log.flush()
  t.same(await log.verify({ keys }), { ok: true, checked: 333, checkpoints: 33, lastCheckpoint: { [GW]: 331 } })
  const path = join(root, 'export.ndjson')
  const lines = chainLines()
  await writeFile(path, lines.join('\n') + '\n')
  t.same(await verifyFile(path, { keys, threads: 2 }), { ok: true, checked: 44, checkpoints: 4, lastCheckpoint: { [GW]: 41 } })
  await writeFile(path, swapRecords(lines, 7, 9).lines.join('\n') + '\n')
  t.same(await verifyFile(path, { keys, threads: 2 }), { ok: false, checked: 9, firstBad: { gatewayId: GW, seq: 7, reason: 'reordered' } })
})

t.test('verifyThreads is checked at open', async t => {
  for (const verifyThreads of [-1, 1.5, Number.NaN]) {
    await t.rejects(FileAuditLog.open({ dir: tmpdir(), gatewayId: GW, verifyThreads }), { code: 'GOVEX_ERR_BAD_REQUEST', message: /verifyThreads/ })
  }
})
