import t from 'tap'
import { MemoryAuditLog } from '../src/store/memory/audit-log.js'
import { auditLogContract, exchangeEntry } from '../src/store/audit-contract.js'
import type { AuditRecord } from '../src/schemas/audit.js'

await auditLogContract(t, 'memory', async () => new MemoryAuditLog({ gatewayId: 'tj.gw.test' }))

t.test('stored records cannot be changed through what queries return', async t => {
  const log = new MemoryAuditLog({ gatewayId: 'tj.gw.test' })
  await log.append(exchangeEntry())
  const [record] = (await log.query({}, 10)).records as [AuditRecord]
  t.throws(() => { (record as { status: number }).status = 500 })
  t.same(await log.verify(), { ok: true, checked: 1 })
})

t.test('a caller changing its entry or record after append changes nothing stored', async t => {
  const log = new MemoryAuditLog({ gatewayId: 'tj.gw.test' })
  const entry = exchangeEntry()
  const record = await log.append(entry)
  ;(entry.fields as string[]).push('secret')
  ;(record as { status: number }).status = 500
  const [stored] = (await log.query({}, 10)).records as [AuditRecord]
  t.equal(stored.status, 200)
  t.same(await log.verify(), { ok: true, checked: 1 })
})

t.test('timestamps come from the clock but never go back', async t => {
  let now = Date.parse('2026-11-27T08:00:00.000Z')
  const log = new MemoryAuditLog({ gatewayId: 'tj.gw.test', now: () => now })
  const a = await log.append(exchangeEntry())
  now -= 60_000
  const b = await log.append(exchangeEntry())
  now += 120_000
  const c = await log.append(exchangeEntry())
  t.equal(a.ts, '2026-11-27T08:00:00.000Z')
  t.equal(b.ts, a.ts)
  t.equal(c.ts, '2026-11-27T08:01:00.000Z')
})

t.test('options are checked', async t => {
  t.throws(() => new MemoryAuditLog({ gatewayId: '../etc' }), { code: 'GOVEX_ERR_BAD_REQUEST' })
})

t.test('an entry JSON cannot hold is refused, and the chain does not move', async t => {
  const log = new MemoryAuditLog({ gatewayId: 'tj.gw.test' })
  await t.rejects(log.append(exchangeEntry({ latencyMs: Number.NaN })), { code: 'GOVEX_ERR_BAD_REQUEST' })
  t.equal(log.head().seq, 0)
  t.equal((await log.append(exchangeEntry())).seq, 1)
})

t.test('scan streams in steps: 600 records, records appended meanwhile included once', async t => {
  const log = new MemoryAuditLog({ gatewayId: 'tj.gw.test' })
  for (let i = 0; i < 600; i++) await log.append(exchangeEntry())
  const seqs: number[] = []
  for await (const r of log.scan({})) {
    seqs.push(r.seq)
    if (r.seq === 300) await log.append(exchangeEntry())
  }
  t.same(seqs, Array.from({ length: 601 }, (_, i) => i + 1))
})
