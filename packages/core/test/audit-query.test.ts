import t from 'tap'
import { mkdtemp, rm, writeFile, open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { matchesFilter, compareRecords, normalizeFilter, filterKey, checkLimit, AUDIT_PAGE_MAX, type AuditKeyFields } from '../src/audit/query.js'
import { encodeCursor, decodeCursor } from '../src/audit/cursor.js'
import { AuditIndex } from '../src/audit/record-index.js'
import { readLines } from '../src/audit/lines.js'

const rec = (over: Partial<AuditKeyFields> = {}): AuditKeyFields => ({
  ts: '2026-11-27T08:00:00.000Z',
  gatewayId: 'tj.gw.a',
  seq: 1,
  kind: 'exchange',
  outcome: 'allowed',
  code: null,
  consumer: 'tj.mca',
  provider: 'tj.psb',
  resource: 'tj.psb:household-registration',
  userId: 'u1',
  caseRef: 'c1',
  grantId: 'g1',
  ...over
})

t.test('matchesFilter', async t => {
  const r = rec()
  t.ok(matchesFilter(r, {}))
  t.ok(matchesFilter(r, { consumer: 'tj.mca', provider: 'tj.psb', resource: 'tj.psb:household-registration', outcome: 'allowed', kind: 'exchange', userId: 'u1', caseRef: 'c1', grantId: 'g1', gatewayId: 'tj.gw.a' }))
  for (const [k, v] of [['consumer', 'x'], ['provider', 'x'], ['resource', 'x'], ['outcome', 'denied'], ['kind', 'admin'], ['userId', 'x'], ['caseRef', 'x'], ['grantId', 'x'], ['code', 'GOVEX_ERR_QUOTA'], ['gatewayId', 'x']]) {
    t.notOk(matchesFilter(r, { [k as string]: v }), `${k as string} differs`)
  }
  t.ok(matchesFilter(r, { from: r.ts }), 'from is inclusive')
  t.notOk(matchesFilter(r, { to: r.ts }), 'to is exclusive')
  t.ok(matchesFilter(r, { to: '2026-11-27T08:00:00.001Z' }))
  t.notOk(matchesFilter(r, { from: '2026-11-27T08:00:00.001Z' }))
  const admin = { ts: r.ts, gatewayId: 'tj.gw.a', seq: 2, kind: 'admin', outcome: 'allowed', code: null }
  t.notOk(matchesFilter(admin, { consumer: 'tj.mca' }), 'admin records have no consumer')
  t.ok(matchesFilter(admin, { kind: 'admin' }))
})

t.test('compareRecords orders by ts, gatewayId, seq', async t => {
  const a = rec()
  t.equal(compareRecords(a, a), 0)
  t.ok(compareRecords(a, rec({ ts: '2026-11-27T08:00:00.001Z' })) < 0)
  t.ok(compareRecords(rec({ ts: '2026-11-27T08:00:00.001Z' }), a) > 0)
  t.ok(compareRecords(a, rec({ gatewayId: 'tj.gw.b' })) < 0)
  t.ok(compareRecords(rec({ gatewayId: 'tj.gw.b' }), a) > 0)
  t.ok(compareRecords(a, rec({ seq: 2 })) < 0)
})

t.test('normalizeFilter', async t => {
  t.same(normalizeFilter({ consumer: 'tj.mca', provider: undefined, from: '2026-11-27', to: '2026-11-27T16:00:00+08:00' }),
    { consumer: 'tj.mca', from: '2026-11-27T00:00:00.000Z', to: '2026-11-27T08:00:00.000Z' })
  t.throws(() => normalizeFilter({ from: 'soon' }), { code: 'GOVEX_ERR_BAD_REQUEST', message: /`from`/ })
  t.throws(() => normalizeFilter({ to: '2026-13-45' }), { code: 'GOVEX_ERR_BAD_REQUEST', message: /`to`/ })
  for (const loose of ['1', '2026', 'Nov 27 2026', '2026-11-27 08:00:00', '2026-11-27T08:00', '2026-11-27T08:00:00']) {
    t.throws(() => normalizeFilter({ from: loose }), { code: 'GOVEX_ERR_BAD_REQUEST' }, `not ISO 8601 with a zone: ${loose}`)
  }
  t.same(normalizeFilter({ from: '2026-11-27T08:00Z' }).from, '2026-11-27T08:00:00.000Z')
  t.equal(filterKey({ consumer: 'a' }), filterKey(normalizeFilter({ consumer: 'a', kind: undefined })))
  t.not(filterKey({ consumer: 'a' }), filterKey({ consumer: 'b' }))
  t.match(filterKey({}), /^[0-9a-f]{16}$/)
})

t.test('checkLimit', async t => {
  t.equal(checkLimit(1), 1)
  t.equal(checkLimit(AUDIT_PAGE_MAX), 1000)
  for (const bad of [0, -1, 1001, 1.5, Number.NaN]) t.throws(() => checkLimit(bad), { code: 'GOVEX_ERR_BAD_REQUEST' })
})

t.test('cursors are opaque, round-trip and bound to their filter', async t => {
  const filter = normalizeFilter({ consumer: 'tj.mca' })
  const position = { ts: '2026-11-27T08:00:00.000Z', gatewayId: 'tj.gw.a', seq: 7 }
  const cursor = encodeCursor(position, filter)
  t.match(cursor, /^[A-Za-z0-9_-]+$/)
  t.same(decodeCursor(cursor, filter), position)
  t.throws(() => decodeCursor(cursor, {}), { code: 'GOVEX_ERR_BAD_REQUEST', message: /other filters/ })
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  for (const bad of ['', '!!!', 'a'.repeat(2000), b64('x'), b64(null), b64({ t: 1, g: 'g', s: 1, f: 'f' }), b64({ t: 't', g: 'g', s: 1.5, f: 'f' }), b64({ t: 't', g: 'g', s: 1 }), Buffer.from('{nope').toString('base64url')]) {
    t.throws(() => decodeCursor(bad, filter), { code: 'GOVEX_ERR_BAD_REQUEST', message: /malformed/ }, JSON.stringify(bad.slice(0, 20)))
  }
})

t.test('AuditIndex keeps listing order, whatever order entries arrive in', async t => {
  const index = new AuditIndex<AuditKeyFields>()
  const at = (s: number): string => new Date(Date.UTC(2026, 10, 27, 8, 0, s)).toISOString()
  index.add(rec({ ts: at(5), seq: 5 }))
  index.add(rec({ ts: at(1), seq: 1, consumer: 'tj.hrss' }))
  index.add(rec({ ts: at(3), seq: 3 }))
  index.add(rec({ ts: at(3), seq: 2, gatewayId: 'tj.gw.0' }))
  index.add(rec({ ts: at(9), seq: 9, kind: 'admin', consumer: undefined, provider: undefined, resource: undefined }))
  t.equal(index.size, 5)
  const seqs = (f = {}, after?: AuditKeyFields, limit = 100): number[] => index.select(f, after, limit).items.map(e => e.seq)
  t.same(seqs(), [1, 2, 3, 5, 9])
  t.same(seqs({ consumer: 'tj.mca' }), [2, 3, 5])
  t.same(seqs({ consumer: 'tj.mca', provider: 'tj.psb' }), [2, 3, 5])
  t.same(seqs({ resource: 'tj.psb:none' }), [])
  t.same(seqs({ from: at(3), to: at(9) }), [2, 3, 5])
  t.same(seqs({}, rec({ ts: at(3), seq: 2, gatewayId: 'tj.gw.0' })), [3, 5, 9], 'after a position')
  t.same(seqs({ from: at(5) }, rec({ ts: at(1), seq: 1 })), [5, 9], 'from beyond the position')
  t.same(index.select({}, undefined, 2), { items: index.select({}, undefined, 2).items, more: true })
  t.equal(index.select({}, undefined, 5).more, false)

  const bulk = new AuditIndex<AuditKeyFields>()
  bulk.load([rec({ ts: at(5), seq: 5 }), rec({ ts: at(1), seq: 1, consumer: 'tj.hrss' }), rec({ ts: at(3), seq: 3 }), rec({ ts: at(2), seq: 2 })])
  t.same(bulk.select({}, undefined, 10).items.map(e => e.seq), [1, 2, 3, 5])
  t.same(bulk.select({ consumer: 'tj.mca' }, undefined, 10).items.map(e => e.seq), [2, 3, 5])
  bulk.add(rec({ ts: at(4), seq: 4 }))
  t.same(bulk.select({ consumer: 'tj.mca' }, undefined, 10).items.map(e => e.seq), [2, 3, 4, 5])
})

t.test('readLines: offsets, lines across chunks, a torn tail', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'govex-lines-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const path = join(dir, 'x.jsonl')
  const long = 'é'.repeat(700_000) // 1.4 MB: crosses a chunk
  await writeFile(path, `a\n\n${long}\nbc\ntorn`)
  const fh = await open(path, 'r')
  t.teardown(async () => { await fh.close() })
  const got = []
  for await (const line of readLines(fh)) got.push({ ...line, text: line.text.length > 10 ? `long ${line.text.length}` : line.text })
  t.same(got, [
    { text: 'a', offset: 0, bytes: 1, complete: true },
    { text: '', offset: 2, bytes: 0, complete: true },
    { text: 'long 700000', offset: 3, bytes: 1_400_000, complete: true },
    { text: 'bc', offset: 1_400_004, bytes: 2, complete: true },
    { text: 'torn', offset: 1_400_007, bytes: 4, complete: false }
  ])
  const part = []
  for await (const line of readLines(fh, 1_400_004, 1_400_007)) part.push(line)
  t.same(part, [{ text: 'bc', offset: 1_400_004, bytes: 2, complete: true }], 'a byte range')
  const beyond = []
  for await (const line of readLines(fh, 0, 1e9)) beyond.push(line)
  t.equal(beyond.length, 5, 'an end past the file stops at its end')
})
