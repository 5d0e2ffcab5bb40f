// The audit log on Redis Streams: batching, idempotence by seq, chain
// continuity across reopen, the per-agency indexes, and verify naming the
// first bad record of a stream changed behind the log's back.
import t from 'tap'
import type { Redis } from 'ioredis'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compareRecords, recordHash, sealLine, ZERO_DIGEST, type AuditRecord } from '@govex/core'
import { appendRecords } from '../src/audit-append.js'
import { needRedis, rawClient, scope } from './helpers/redis.js'
import { admin, exchange } from './helpers/fixtures.js'

/** Records as appendRecords takes them (no stored line: it serialises them itself). */
const sealed = (records: readonly AuditRecord[]): Array<{ record: AuditRecord }> => records.map(record => ({ record }))

/** Rewrites record `seq` of a stream with other content, in place, its hash left as it was. */
async function rewriteRecord (raw: Redis, stream: string, seq: number): Promise<void> {
  const entries = await raw.xrange(stream, '-', '+')
  await raw.del(stream)
  for (const [id, fields] of entries) {
    const record = JSON.parse(fields[1] as string) as AuditRecord
    if (record.seq === seq) (record as { userId: string | null }).userId = 'someone-else'
    await raw.xadd(stream, id, 'r', JSON.stringify(record), 'h', fields[3] as string)
  }
}

async function collect<T> (source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

if (await needRedis(t)) {
  t.test('concurrent appends are batched, in call order, each resolved once stored', async t => {
    const s = scope(t)
    const stores = await s.open()
    const n = 1000
    const records = await Promise.all(Array.from({ length: n }, (_, i) => stores.audit.append(exchange('tj.mca', 'tj.psb', i))))
    t.same(records.map(r => r.seq), Array.from({ length: n }, (_, i) => i + 1))
    t.ok(records.every((r, i) => r.prevHash === (i === 0 ? ZERO_DIGEST : records[i - 1]?.hash) && r.hash === recordHash(r)))
    const raw = await rawClient(t)
    t.equal(await raw.xlen(`${s.prefix}{govex}:audit:tj.gw.test-1`), n, 'every record in the stream, already when append resolved')
    t.ok(stores.audit.batches < n / 4, `appends share round trips (${stores.audit.batches} batches for ${n})`)
    t.same(await stores.audit.verify(), { ok: true, checked: n })
    t.same(stores.audit.head(), { seq: n, hash: records[n - 1]?.hash })
  })

  t.test('a retried append never doubles a record; a different record at a stored seq is refused', async t => {
    const s = scope(t)
    const stores = await s.open()
    const records = [await stores.audit.append(exchange('tj.mca', 'tj.psb', 1)), await stores.audit.append(admin('tj.it-office', 2))]
    const raw = await rawClient(t)
    t.equal(await appendRecords(raw, stores.keys, 'tj.gw.test-1', sealed(records)), 0, 'the same records again: nothing added')
    t.equal(await raw.xlen(`${s.prefix}{govex}:audit:tj.gw.test-1`), 2)
    t.equal(await raw.zcard(`${s.prefix}{govex}:audit-idx:all`), 2, 'nor indexed twice')
    const forged = { ...records[1], target: 'tj.other' } as AuditRecord
    await t.rejects(appendRecords(raw, stores.keys, 'tj.gw.test-1', sealed([{ ...forged, hash: recordHash(forged) }])), /GOVEX_CHAIN/)
    const gap = { ...records[1], seq: 5 } as AuditRecord
    await t.rejects(appendRecords(raw, stores.keys, 'tj.gw.test-1', sealed([gap])), /GOVEX_CHAIN.*does not follow/, 'a gap is refused')
    const fork = { ...records[1], seq: 3, prevHash: ZERO_DIGEST } as AuditRecord
    await t.rejects(appendRecords(raw, stores.keys, 'tj.gw.test-1', sealed([fork])), /GOVEX_CHAIN/, 'a record that does not link to the head is refused')
    t.equal(await raw.xlen(`${s.prefix}{govex}:audit:tj.gw.test-1`), 2, 'a refused batch adds nothing')
    const next = await stores.audit.append(exchange('tj.mca', 'tj.psb', 3))
    t.equal(next.seq, 3)
    t.same(await stores.audit.verify(), { ok: true, checked: 3 })
  })

  t.test('two processes on one gatewayId: the one behind refuses to fork the chain, then catches up', async t => {
    const s = scope(t)
    const errors: Error[] = []
    const a = await s.open()
    const b = await s.open({ onError: err => errors.push(err) })
    await a.audit.append(exchange('tj.mca', 'tj.psb', 1))
    // b still believes the chain is empty: its seq 1 clashes with a's
    await t.rejects(b.audit.append(exchange('tj.mca', 'tj.psb', 2)), { code: 'GOVEX_ERR_UNAVAILABLE', message: /own gatewayId/ })
    t.equal(errors.filter(e => /own gatewayId/.test(e.message)).length, 1, 'reported')
    const after = await b.audit.append(exchange('tj.mca', 'tj.psb', 3))
    t.equal(after.seq, 2, 'continues from what Redis holds')
    t.same(await a.audit.verify(), { ok: true, checked: 2 })
  })

  t.test('the chain continues across a reopen', async t => {
    const s = scope(t)
    const first = await s.open()
    for (let i = 0; i < 5; i++) await first.audit.append(exchange('tj.mca', 'tj.psb', i))
    const head = first.audit.head()
    await first.close()
    const again = await s.open()
    t.same(again.audit.head(), head)
    const next = await again.audit.append(admin('tj.it-office'))
    t.equal(next.seq, 6)
    t.equal(next.prevHash, head.hash)
    t.same(await again.audit.verify(), { ok: true, checked: 6 })
  })

  t.test('queries read the per-agency indexes, across every gateway', async t => {
    const s = scope(t)
    const a = await s.open({ gatewayId: 'tj.gw.a' })
    const b = await s.open({ gatewayId: 'tj.gw.b' })
    const mine: AuditRecord[] = []
    for (let i = 0; i < 30; i++) {
      const consumer = i % 3 === 0 ? 'tj.mca' : 'tj.hrss'
      const record = await (i % 2 === 0 ? a : b).audit.append(exchange(consumer, i % 5 === 0 ? 'tj.civil' : 'tj.psb', i, i % 7 === 0 ? 'denied' : 'allowed'))
      if (consumer === 'tj.mca') mine.push(record)
    }
    await a.audit.append(admin('tj.it-office'))
    // listing order is (ts, gatewayId, seq): records of both gateways in one ms sort by gateway
    mine.sort(compareRecords)
    const raw = await rawClient(t)
    t.equal(await raw.zcard(`${s.prefix}{govex}:audit-idx:consumer:tj.mca`), 10, 'consumer index')
    t.equal(await raw.zcard(`${s.prefix}{govex}:audit-idx:provider:tj.civil`), 6, 'provider index')
    t.equal(await raw.zcard(`${s.prefix}{govex}:audit-idx:resource:tj.civil:household-registration`), 6, 'resource index')
    t.equal(await raw.zcard(`${s.prefix}{govex}:audit-idx:all`), 31)
    t.same(await raw.smembers(`${s.prefix}{govex}:audit-gateways`).then(g => g.sort()), ['tj.gw.a', 'tj.gw.b'])

    const page = await b.audit.query({ consumer: 'tj.mca' }, 4)
    t.same(page.records, mine.slice(0, 4), 'from either gateway, oldest first')
    const rest = await b.audit.query({ consumer: 'tj.mca' }, 100, page.nextCursor as string)
    t.same(rest.records, mine.slice(4))
    t.equal(rest.nextCursor, null)
    t.same(await collect(a.audit.scan({ consumer: 'tj.mca', outcome: 'denied' })), mine.filter(r => r.outcome === 'denied'))
    t.equal((await collect(a.audit.scan({ provider: 'tj.civil' }))).length, 6)
    t.equal((await collect(a.audit.scan({ kind: 'admin' }))).length, 1)
    const all = await collect(a.audit.scan({}))
    t.equal(all.length, 31)
    t.same(await a.audit.verify(), { ok: true, checked: 31 }, 'verify walks both chains')
    const from = all[10]?.ts as string
    t.same(await collect(a.audit.scan({ from, consumer: 'tj.hrss' })), all.filter(r => r.ts >= from && r.kind === 'exchange' && r.consumer === 'tj.hrss'))
  })

  t.test('many records in one millisecond page correctly', async t => {
    const s = scope(t)
    const stores = await s.open()
    const raw = await rawClient(t)
    // forge a chain whose records share one ts, as a fast burst would
    const { sealRecord } = await import('@govex/core')
    const records: AuditRecord[] = []
    let prevHash = ZERO_DIGEST
    for (let seq = 1; seq <= 600; seq++) {
      const record = sealRecord(exchange('tj.mca', 'tj.psb', seq), { gatewayId: 'tj.gw.burst', seq, ts: '2026-03-01T00:00:00.000Z', prevHash })
      records.push(record)
      prevHash = record.hash
    }
    t.equal(await appendRecords(raw, stores.keys, 'tj.gw.burst', sealed(records)), 600)
    t.same(await collect(stores.audit.scan({})), records, 'scan past a chunk of equal scores')
    const pages: AuditRecord[] = []
    let cursor: string | undefined
    do {
      const page = await stores.audit.query({ consumer: 'tj.mca' }, 250, cursor)
      pages.push(...page.records)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    t.same(pages.map(r => r.seq), records.map(r => r.seq))
  })

  t.test('a spool torn by a crash: the whole lines replay, the torn one is dropped', async t => {
    const s = scope(t)
    const dir = await mkdtemp(join(tmpdir(), 'govex-spool-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const lines: string[] = []
    let prevHash = ZERO_DIGEST
    for (let seq = 1; seq <= 3; seq++) {
      const { record, line } = sealLine(exchange('tj.mca', 'tj.psb', seq), { gatewayId: 'tj.gw.test-1', seq, ts: new Date().toISOString(), prevHash })
      lines.push(line)
      prevHash = record.hash
    }
    const spoolFile = join(dir, 'tj.gw.test-1.jsonl')
    await writeFile(spoolFile, lines[0] + '\n' + lines[1] + '\n' + (lines[2] as string).slice(0, 40))
    const stores = await s.open({ spoolDir: dir })
    t.equal(stores.audit.head().seq, 2, 'the torn record never resolved: the chain ends before it')
    await stores.audit.flush()
    const raw = await rawClient(t)
    t.equal(await raw.xlen(`${s.prefix}{govex}:audit:tj.gw.test-1`), 2)
    t.equal(await readFile(spoolFile, 'utf8'), '', 'the spool is emptied once Redis holds it')
    t.equal((await stores.audit.append(admin('tj.it-office'))).seq, 3)
    t.same(await stores.audit.verify(), { ok: true, checked: 3 })
  })

  t.test('verify names the first record removed, changed or cut off', async t => {
    const s = scope(t)
    const stores = await s.open()
    for (let i = 0; i < 6; i++) await stores.audit.append(exchange('tj.mca', 'tj.psb', i))
    const raw = await rawClient(t)
    const stream = `${s.prefix}{govex}:audit:tj.gw.test-1`
    t.same(await stores.audit.verify(), { ok: true, checked: 6 })
    await raw.xdel(stream, '6-1')
    t.match(await stores.audit.verify(), { ok: false, firstBad: { gatewayId: 'tj.gw.test-1', seq: 6, reason: 'truncated' } }, 'the stored head knows the tail')
    await raw.xdel(stream, '3-1')
    t.match(await stores.audit.verify(), { ok: false, firstBad: { seq: 3, reason: 'missing' } })
    await rewriteRecord(raw, stream, 2)
    t.match(await stores.audit.verify(), { ok: false, firstBad: { seq: 2, reason: 'changed' } })
  })

  t.test('verify names the first bad chain in gateway order and walks no further, as the file log does', async t => {
    const s = scope(t)
    const a = await s.open({ gatewayId: 'tj.gw.a' })
    const b = await s.open({ gatewayId: 'tj.gw.b' })
    for (let i = 0; i < 3; i++) {
      await a.audit.append(exchange('tj.mca', 'tj.psb', i))
      await b.audit.append(exchange('tj.mca', 'tj.psb', i))
    }
    const raw = await rawClient(t)
    // a's last record cut off (its end is bad, nothing in it is), then b's record 2 rewritten in place
    await raw.xdel(`${s.prefix}{govex}:audit:tj.gw.a`, '3-1')
    await rewriteRecord(raw, `${s.prefix}{govex}:audit:tj.gw.b`, 2)
    t.same(await b.audit.verify(), { ok: false, checked: 2, firstBad: { gatewayId: 'tj.gw.a', seq: 3, reason: 'truncated' } })
  })
}
