import t from 'tap'
import { canonicalJson, sha256, ZERO_DIGEST } from '../src/canonical.js'
import fc from 'fast-check'
import { sealRecord, sealLine, recordHash, nextTimestamp, isoInstant, EMPTY_HEAD } from '../src/audit/chain.js'
import { recordBody, recordLine, lineSealed } from '../src/audit/record-json.js'
import { verifyChain, isSealed, readRecordLine, ChainVerifier } from '../src/audit/verify.js'
import { exchangeEntry, adminEntry } from '../src/store/audit-contract.js'
import type { AuditEntry, AuditRecord } from '../src/schemas/audit.js'

const GW = 'tj.gw.extranet-1'

function chain (n: number, gatewayId = GW, entry: (i: number) => AuditEntry = i => i % 4 === 3 ? adminEntry() : exchangeEntry({ userId: `u${i}` })): AuditRecord[] {
  const out: AuditRecord[] = []
  let prevHash = ZERO_DIGEST
  for (let i = 0; i < n; i++) {
    const r = sealRecord(entry(i), { gatewayId, seq: i + 1, ts: new Date(Date.UTC(2026, 10, 27, 8, 0, i)).toISOString(), prevHash })
    out.push(r)
    prevHash = r.hash
  }
  return out
}

const withoutHash = (r: object): object => {
  const { hash: _h, ...rest } = r as Record<string, unknown>
  return rest
}

t.test('sealRecord: hash is sha256 of the canonical JSON without hash', async t => {
  const entry = exchangeEntry()
  const r = sealRecord(entry, { gatewayId: GW, seq: 1, ts: '2026-11-27T08:00:00.123Z', prevHash: ZERO_DIGEST })
  t.equal(r.hash, sha256(canonicalJson(withoutHash(r))))
  t.equal(r.hash, recordHash(r))
  t.same(Object.keys(r).slice(0, 3), ['gatewayId', 'seq', 'ts'])
  t.same(Object.keys(r).slice(-2), ['prevHash', 'hash'], 'MODEL.md order, hash last')
  t.match(r, entry)
  t.same(EMPTY_HEAD, { seq: 0, hash: ZERO_DIGEST })
})

t.test('sealRecord: the chain fields win over an entry that carries its own', async t => {
  const entry = { ...exchangeEntry(), gatewayId: 'tj.evil', seq: 99, ts: 'x', prevHash: 'y', hash: 'z' } as unknown as AuditEntry
  const r = sealRecord(entry, { gatewayId: GW, seq: 1, ts: '2026-11-27T08:00:00.123Z', prevHash: ZERO_DIGEST })
  t.match(r, { gatewayId: GW, seq: 1, ts: '2026-11-27T08:00:00.123Z', prevHash: ZERO_DIGEST })
  t.equal(r.hash, recordHash(r))
})

t.test('sealLine gives the stored line: canonical body with hash appended', async t => {
  const { record, line } = sealLine(adminEntry(), { gatewayId: GW, seq: 3, ts: '2026-11-27T08:00:00.123Z', prevHash: ZERO_DIGEST })
  t.same(JSON.parse(line), record)
  t.equal(line, recordLine(canonicalJson(withoutHash(record)), record.hash))
  t.ok(lineSealed(line, record.hash))
  t.notOk(lineSealed(line.replace('plan.activate', 'plan.revoke!'), record.hash))
  t.notOk(lineSealed(line, ZERO_DIGEST), 'another hash')
  t.notOk(lineSealed(line + ' ', record.hash), 'not the written form')
  t.notOk(lineSealed('{}', record.hash))
})

t.test('sealing refuses values canonical JSON cannot hold', async t => {
  const at = { gatewayId: GW, seq: 1, ts: '2026-11-27T08:00:00.123Z', prevHash: ZERO_DIGEST }
  t.throws(() => sealRecord(exchangeEntry({ latencyMs: Number.NaN }), at), { code: 'GOVEX_ERR_BAD_REQUEST' })
  t.throws(() => sealRecord(exchangeEntry({ userId: 'bad \ud800' }), at), { code: 'GOVEX_ERR_BAD_REQUEST' })
  t.throws(() => sealRecord(exchangeEntry({ fields: ['ok', '\udc00'] }), at), { code: 'GOVEX_ERR_BAD_REQUEST' })
})

t.test('recordBody equals canonicalJson(record without hash) for every shape', async t => {
  const base = chain(2)
  const exchange = base[0] as AuditRecord
  const admin = sealRecord(adminEntry(), { gatewayId: GW, seq: 1, ts: '2026-11-27T08:00:00.000Z', prevHash: ZERO_DIGEST })
  const cases: Array<[string, object]> = [
    ['exchange', exchange],
    ['admin', admin],
    ['without hash', withoutHash(exchange)],
    ['nulls', { ...exchange, plan: null, fields: null, digests: null, provider: null }],
    ['an extra key', { ...exchange, extra: 1 }],
    ['a missing key', withoutHash({ ...admin, digest: undefined })],
    ['an undefined value', { ...exchange, userId: undefined }],
    ['an unknown kind', { ...exchange, kind: 'other' }],
    ['no kind', { seq: 1, z: 'a', a: [1, { b: 2, a: 1 }] }],
    ['nested deeper', { ...exchange, plan: { id: 'p', version: 3, meta: { b: 1, a: 2 } } }],
    ['array of objects', { ...exchange, fields: [{ b: 1, a: 2 }] }],
    ['booleans and numbers', { ...exchange, latencyMs: 1e21, status: -0, plan: { id: true, version: 1.5 }, fields: [false, 2] }],
    ['a boolean at the top', { ...exchange, caseRef: true }],
    ['unicode', { ...exchange, userId: 'é😀\u2028', fields: ['\u0000'], plan: { 'ö': 'ü', a: '\u20ac' } }],
    ['a Date inside', { ...exchange, plan: new Date(0) }],
    ['a null-prototype object', Object.assign(Object.create(null) as object, exchange)],
    ['a class instance', new (class { kind = 'exchange'; a = 1 })()],
    ['hash undefined', { ...exchange, hash: undefined }],
    ['a nested undefined', { ...exchange, plan: { id: 'p', version: undefined } }]
  ]
  for (const [name, value] of cases) t.equal(recordBody(value), canonicalJson(withoutHash(value)), name)
  t.throws(() => recordBody({ ...exchange, plan: { id: '\ud800', version: 1 } }))
  t.throws(() => recordBody({ ...exchange, plan: { ['\ud800']: 1 } }))
})

t.test('nextTimestamp never goes back', async t => {
  const ms = Date.parse('2026-11-27T08:00:00.500Z')
  t.equal(nextTimestamp(ms, undefined), '2026-11-27T08:00:00.500Z')
  t.equal(nextTimestamp(ms, '2026-11-27T08:00:01.000Z'), '2026-11-27T08:00:01.000Z')
  t.equal(nextTimestamp(ms, '2026-11-27T07:00:00.000Z'), '2026-11-27T08:00:00.500Z')
})

t.test('isoInstant writes what Date.prototype.toISOString writes', async t => {
  for (const ms of [0, 1, 9, 10, 99, 100, 999, 1000, 1001, Date.parse('2026-11-27T08:00:00.007Z'), Date.parse('2026-11-27T08:00:00.070Z'),
    Date.parse('2026-12-31T23:59:59.999Z'), Date.parse('2027-01-01T00:00:00.000Z'), 253402300799999, 253402300800000, -1, -1001, 1.5, 8.64e15]) {
    t.equal(isoInstant(ms), new Date(ms).toISOString(), String(ms))
  }
  t.throws(() => isoInstant(Number.NaN), RangeError, 'NaN is refused as Date refuses it')
  // the cached second must never leak into another second, in whatever order instants come
  fc.assert(fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 253402300799999 }), fc.integer({ min: 1795000000000, max: 1795000005000 })), { maxLength: 50 }), list => {
    for (const ms of list) if (isoInstant(ms) !== new Date(ms).toISOString()) return false
    return true
  }))
})

const heads = (records: AuditRecord[]): Map<string, { seq: number, hash: string }> => {
  const last = records[records.length - 1] as AuditRecord
  return new Map([[last.gatewayId, { seq: last.seq, hash: last.hash }]])
}

t.test('verifyChain: an intact chain', async t => {
  const records = chain(20)
  t.same(await verifyChain(records), { ok: true, checked: 20 })
  t.same(await verifyChain(records, { heads: heads(records) }), { ok: true, checked: 20 })
  t.same(await verifyChain([]), { ok: true, checked: 0 })
  async function * stream (): AsyncGenerator<AuditRecord> { yield * records }
  t.same(await verifyChain(stream()), { ok: true, checked: 20 }, 'an async iterable')
})

t.test('verifyChain names the first bad record', async t => {
  const bad = async (records: Array<Partial<AuditRecord>>, options = {}): Promise<unknown> => (await verifyChain(records, options)).firstBad
  const records = chain(10)
  const at = (i: number): AuditRecord => records[i] as AuditRecord
  const replace = (i: number, r: object): AuditRecord[] => records.map((x, j) => j === i ? r as AuditRecord : x)

  t.same(await bad(replace(4, { ...at(4), userId: 'someone-else' })), { gatewayId: GW, seq: 5, reason: 'changed' }, 'a changed field')
  t.same(await bad(replace(0, { ...at(0), status: 500 })), { gatewayId: GW, seq: 1, reason: 'changed' }, 'the first record changed')
  const rehashed = { ...at(4), userId: 'someone-else' } as AuditRecord
  rehashed.hash = recordHash(rehashed)
  t.same(await bad(replace(4, rehashed)), { gatewayId: GW, seq: 5, reason: 'changed' }, 'changed and re-hashed: the next record does not link')
  const rerooted = { ...at(0), prevHash: 'sha256:' + '1'.repeat(64) } as AuditRecord
  rerooted.hash = recordHash(rerooted)
  t.same(await bad(replace(0, rerooted)), { gatewayId: GW, seq: 1, reason: 'changed' }, 'seq 1 not rooted at the zero digest')
  t.same(await bad(replace(4, { ...at(4), seq: 50 })), { gatewayId: GW, seq: 5, reason: 'changed' }, 'a changed seq names its place')

  t.same(await bad(records.filter((_, i) => i !== 4)), { gatewayId: GW, seq: 5, reason: 'missing' }, 'a deleted record')
  t.same(await bad(records.filter((_, i) => i !== 0)), { gatewayId: GW, seq: 1, reason: 'missing' }, 'the first record deleted')
  t.same(await bad(records.filter((_, i) => i !== 4 && i !== 5)), { gatewayId: GW, seq: 5, reason: 'missing' }, 'two deleted: the first named')
  t.same(await bad(records.filter((_, i) => i !== 4 && i !== 7)), { gatewayId: GW, seq: 5, reason: 'missing' }, 'two gaps: the first named')

  const swap = (i: number, j: number): AuditRecord[] => records.map((x, k) => k === i ? at(j) : k === j ? at(i) : x)
  t.same(await bad(swap(4, 5)), { gatewayId: GW, seq: 5, reason: 'reordered' }, 'two adjacent records swapped')
  t.same(await bad(swap(2, 7)), { gatewayId: GW, seq: 3, reason: 'reordered' }, 'two distant records swapped')
  t.same(await bad(swap(0, 1)), { gatewayId: GW, seq: 1, reason: 'reordered' }, 'the first two swapped')
  t.same(await bad([...records.slice(0, 3), ...records.slice(4), at(3)]), { gatewayId: GW, seq: 4, reason: 'reordered' }, 'a record moved to the end')
  t.same(await bad([...records.slice(0, 3), at(8), ...records.slice(3, 8), at(9)]), { gatewayId: GW, seq: 4, reason: 'reordered' }, 'a record moved earlier')
  t.same(await bad([...records, at(3)]), { gatewayId: GW, seq: 4, reason: 'reordered' }, 'a record repeated')
  t.same(await bad([...records.slice(0, 6), at(2), at(7)]), { gatewayId: GW, seq: 3, reason: 'reordered' }, 'a record repeated after a gap')
  t.same(await bad(records.slice().reverse()), { gatewayId: GW, seq: 1, reason: 'reordered' }, 'the whole chain reversed')

  t.same(await bad(records.slice(0, 7), { heads: heads(records) }), { gatewayId: GW, seq: 8, reason: 'truncated' }, 'a truncated tail')
  t.same(await bad([], { heads: heads(records) }), { gatewayId: GW, seq: 1, reason: 'truncated' }, 'everything removed')
  const last = { ...at(9), status: 500 } as AuditRecord
  last.hash = recordHash(last)
  t.same(await bad(replace(9, last), { heads: heads(records) }), { gatewayId: GW, seq: 10, reason: 'changed' }, 'the last record re-hashed')
  t.same(await verifyChain(replace(9, last)), { ok: true, checked: 10 }, '…which only the head can tell')
  t.same(await verifyChain(records, { heads: new Map([[GW, { seq: 0, hash: ZERO_DIGEST }]]) }), { ok: true, checked: 10 })

  t.same(await bad([...records.slice(0, 2), null as unknown as AuditRecord]), { gatewayId: '', seq: 1, reason: 'changed' }, 'not a record at all')
  t.same(await bad(replace(2, { ...at(2), hash: 42 })), { gatewayId: GW, seq: 3, reason: 'changed' }, 'a hash that is no string')
  t.same(await bad(replace(2, { ...at(2), latencyMs: Number.NaN, hash: 'x' })), { gatewayId: GW, seq: 3, reason: 'changed' }, 'content with no JSON form')
})

t.test('verifyChain stops at the first bad record it can be sure of', async t => {
  const records = chain(10)
  const result = await verifyChain([...records.slice(0, 3), { ...records[3] as AuditRecord, status: 1 }, ...records.slice(4)])
  t.same(result, { ok: false, checked: 4, firstBad: { gatewayId: GW, seq: 4, reason: 'changed' } })
})

t.test('verifyChain checks each gateway\'s chain in an interleaved stream', async t => {
  const a = chain(6, 'tj.gw.a')
  const b = chain(6, 'tj.gw.b')
  const merged = a.flatMap((r, i) => [r, b[i] as AuditRecord])
  t.same(await verifyChain(merged), { ok: true, checked: 12 })
  const broken = merged.filter(r => !(r.gatewayId === 'tj.gw.b' && r.seq === 3))
  t.same(await verifyChain(broken), { ok: false, checked: 11, firstBad: { gatewayId: 'tj.gw.b', seq: 3, reason: 'missing' } })
  const withHeads = new Map([['tj.gw.a', { seq: 6, hash: (a[5] as AuditRecord).hash }], ['tj.gw.c', { seq: 2, hash: ZERO_DIGEST }]])
  t.same(await verifyChain(merged, { heads: withHeads }), { ok: false, checked: 12, firstBad: { gatewayId: 'tj.gw.c', seq: 1, reason: 'truncated' } }, 'a chain the heads know but the stream lacks')
})

t.test('ChainVerifier: a torn tail, and nothing changes once it is done', async t => {
  const records = chain(3)
  const feed = (v: ChainVerifier, r: AuditRecord): boolean => v.push(r.seq, r.prevHash, r.hash, true)
  const v = new ChainVerifier(GW)
  t.ok(feed(v, records[0] as AuditRecord))
  v.tornTail()
  t.ok(v.done)
  t.same(v.finish(), { gatewayId: GW, seq: 2, reason: 'truncated' })
  t.notOk(feed(v, records[1] as AuditRecord))
  v.tornTail()
  t.same(v.finish(), { gatewayId: GW, seq: 2, reason: 'truncated' })
  const gap = new ChainVerifier(GW)
  feed(gap, records[0] as AuditRecord)
  feed(gap, records[2] as AuditRecord)
  t.notOk(gap.done, 'a gap is not final: the record may come later')
  gap.tornTail()
  t.same(gap.finish(), { gatewayId: GW, seq: 2, reason: 'missing' })
})

t.test('isSealed and readRecordLine', async t => {
  const [r] = chain(1) as [AuditRecord]
  t.ok(isSealed(r))
  t.notOk(isSealed({ ...r, status: 1 }))
  t.notOk(isSealed(null))
  t.notOk(isSealed('x'))
  t.notOk(isSealed({ ...r, hash: undefined }))
  const line = JSON.stringify(r)
  t.same(readRecordLine(line), { record: r, sealed: true })
  t.same(readRecordLine(line.replace('"u0"', '"u1"')).sealed, false)
  t.same(readRecordLine('nope'), { record: undefined, sealed: false })
  t.same(readRecordLine('[1,2]'), { record: undefined, sealed: false })
  t.same(readRecordLine('"text"'), { record: undefined, sealed: false })
  t.same(readRecordLine('{"seq":1}'), { record: { seq: 1 }, sealed: false })
})
