// The file log builds its index on the first query, not at open: opening reads
// only the chain's last lines, an export streams the files (memory stays
// flat), and records appended while the index is built are indexed once.
import t from 'tap'
import { mkdtemp, rm, appendFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileAuditLog } from '../src/store/file/audit-log.js'
import { exchangeEntry, adminEntry } from '../src/store/audit-contract.js'
import type { AuditRecord } from '../src/schemas/audit.js'

const root = await mkdtemp(join(tmpdir(), 'govex-lazy-'))
t.teardown(async () => { await rm(root, { recursive: true, force: true }) })

async function collect (source: AsyncIterable<AuditRecord>): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for await (const r of source) out.push(r)
  return out
}

t.test('a streamed scan and an indexed one give the same records, over several chains', async t => {
  const dir = join(root, 'a')
  for (const gw of ['tj.gw.a', 'tj.gw.b']) {
    const log = await FileAuditLog.open({ dir, gatewayId: gw })
    for (let i = 0; i < 30; i++) await log.append(i % 5 === 0 ? adminEntry() : exchangeEntry({ consumer: i % 2 === 0 ? 'tj.mca' : 'tj.hrss' }))
    await log.close()
  }
  await appendFile(join(dir, 'audit', 'tj.gw.b.jsonl'), '\n[1]\nnot json\n')
  const reader = await FileAuditLog.openReadOnly({ dir })
  t.teardown(async () => { await reader.close() })
  const filters = [{}, { consumer: 'tj.mca' }, { kind: 'admin' as const }, { gatewayId: 'tj.gw.b' }]
  const streamed = []
  for (const f of filters) streamed.push(await collect(reader.scan(f)))
  t.equal(reader.indexBuildMs, null, 'no index for a scan')
  t.equal(streamed[0]?.length, 60)
  t.equal((await reader.query({}, 1000)).records.length, 60)
  t.type(reader.indexBuildMs, 'number', 'the first query built it')
  for (let i = 0; i < filters.length; i++) t.same(await collect(reader.scan(filters[i] ?? {})), streamed[i], `same records: ${JSON.stringify(filters[i])}`)
})

t.test('appends while the index is built are indexed once', async t => {
  const log = await FileAuditLog.open({ dir: join(root, 'b'), gatewayId: 'tj.gw.a' })
  t.teardown(async () => { await log.close() })
  for (let i = 0; i < 50; i++) await log.append(exchangeEntry())
  const [page] = await Promise.all([
    log.query({}, 1000),
    ...Array.from({ length: 20 }, async () => await log.append(exchangeEntry()))
  ])
  t.ok(page.records.length >= 50)
  const all = (await log.query({}, 1000)).records
  t.same(all.map(r => r.seq), Array.from({ length: 70 }, (_, i) => i + 1))
  t.same(await log.verify(), { ok: true, checked: 70 })
})

t.test('opening finds the head behind a last line longer than the read window', async t => {
  const dir = join(root, 'c')
  const log = await FileAuditLog.open({ dir, gatewayId: 'tj.gw.a' })
  await log.append(exchangeEntry())
  const big = await log.append(exchangeEntry({ userId: 'x'.repeat(300_000) }))
  await log.close()
  await appendFile(log.path, '\n\n{"torn":')
  const again = await FileAuditLog.open({ dir, gatewayId: 'tj.gw.a' })
  t.teardown(async () => { await again.close() })
  t.same(again.head(), { seq: 2, hash: big.hash })
  t.equal((await again.append(exchangeEntry())).seq, 3)
  t.same(await again.verify(), { ok: true, checked: 3 })
})

t.test('a scan from an instant starts at its first line (binary search), whatever the line lengths, without an index', async t => {
  const dir = join(root, 'from')
  let clock = Date.UTC(2026, 10, 1)
  for (const gw of ['tj.gw.a', 'tj.gw.b']) {
    const log = await FileAuditLog.open({ dir, gatewayId: gw, now: () => (clock += 1000) })
    for (let i = 0; i < 120; i++) {
      // a few lines far longer than one probe read
      await log.append(exchangeEntry({ userId: i % 17 === 0 ? 'u'.repeat(9000 + i) : 'officer-' + i }))
    }
    await log.close()
  }
  await appendFile(join(dir, 'audit', 'tj.gw.b.jsonl'), 'not json\n')
  const reader = await FileAuditLog.openReadOnly({ dir })
  t.teardown(async () => { await reader.close() })
  const all = await collect(reader.scan({}))
  t.equal(all.length, 240)
  const instants = [all[0]?.ts, all[1]?.ts, all[119]?.ts, all[200]?.ts, all.at(-1)?.ts].map(String)
  instants.push('2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', new Date(Date.parse(String(all[50]?.ts)) + 500).toISOString())
  for (const from of instants) {
    const want = all.filter(r => r.ts >= from).map(r => `${r.gatewayId}/${r.seq}`)
    const got = (await collect(reader.scan({ from }))).map(r => `${r.gatewayId}/${r.seq}`)
    t.same(got, want, `from ${from}: ${want.length} records`)
  }
  t.equal(reader.indexBuildMs, null, 'still no index')
})
