// The behaviour every AuditLog must show (memory, file, Redis): one suite, run
// by each implementation's tests. `open` gives a fresh, empty log; `reopen`
// closes a log and opens the same storage again (for durable logs).
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { ZERO_DIGEST } from '../canonical.js'
import type { AdminAuditEntry, AuditEntry, AuditRecord, ExchangeAuditEntry } from '../schemas/audit.js'
import type { AuditFilter, AuditLog } from './types.js'
import { recordHash } from '../audit/chain.js'

const digest = (c: string): string => 'sha256:' + c.repeat(64)

/** A plausible exchange entry; `overrides` set any field. */
export function exchangeEntry (overrides: Partial<ExchangeAuditEntry> = {}): ExchangeAuditEntry {
  return {
    kind: 'exchange',
    id: randomUUID(),
    consumer: 'tj.mca',
    provider: 'tj.psb',
    resource: 'tj.psb:household-registration',
    userId: 'officer-4711',
    purpose: 'minimum-living-guarantee-review',
    caseRef: 'MCA-2026-000123',
    plan: { id: 'tj-sharing-plan', version: 3 },
    grantId: 'mca-household-2026',
    fields: ['name', 'householdAddress'],
    outcome: 'allowed',
    code: null,
    status: 200,
    latencyMs: 3.2,
    digests: { request: digest('a'), response: digest('b') },
    ...overrides
  }
}

/** A plausible admin entry. */
export function adminEntry (overrides: Partial<AdminAuditEntry> = {}): AdminAuditEntry {
  return {
    kind: 'admin',
    id: randomUUID(),
    actor: 'tj.it-office',
    action: 'plan.activate',
    target: 'tj-sharing-plan@3',
    digest: digest('c'),
    outcome: 'allowed',
    code: null,
    status: 200,
    ...overrides
  }
}

/** A varied set of entries for filter tests: i-th entry decided by i. */
function mixedEntries (n: number): AuditEntry[] {
  const entries: AuditEntry[] = []
  for (let i = 0; i < n; i++) {
    if (i % 7 === 6) {
      entries.push(adminEntry({ action: 'directory.put', target: 'tj.psb' }))
      continue
    }
    const denied = i % 3 === 1
    entries.push(exchangeEntry({
      consumer: i % 2 === 0 ? 'tj.mca' : 'tj.hrss',
      provider: i % 5 === 0 ? 'tj.civil' : 'tj.psb',
      resource: i % 5 === 0 ? 'tj.civil:marriage' : 'tj.psb:household-registration',
      userId: `officer-${i % 4}`,
      caseRef: i % 4 === 0 ? null : `case-${i % 2}`,
      grantId: denied ? null : `grant-${i % 2}`,
      outcome: denied ? 'denied' : i % 11 === 10 ? 'error' : 'allowed',
      code: denied ? 'GOVEX_ERR_NO_GRANT' : null,
      status: denied ? 403 : 200
    }))
  }
  return entries
}

async function appendAll (log: AuditLog, entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for (const entry of entries) out.push(await log.append(entry))
  return out
}

async function allPages (t: Test, log: AuditLog, filter: AuditFilter, limit: number): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  let cursor: string | undefined
  for (let pages = 0; pages < 1000; pages++) {
    const page = await log.query(filter, limit, cursor)
    t.ok(page.records.length <= limit, 'a page holds at most `limit` records')
    if (page.records.length < limit) t.equal(page.nextCursor, null, 'a short page is the last')
    out.push(...page.records)
    if (page.nextCursor === null) return out
    cursor = page.nextCursor
  }
  t.fail('paging did not end')
  return out
}

async function collect (source: AsyncIterable<AuditRecord>): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for await (const record of source) out.push(record)
  return out
}

/** The order every listing uses. */
function byPosition (a: AuditRecord, b: AuditRecord): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1
  if (a.gatewayId !== b.gatewayId) return a.gatewayId < b.gatewayId ? -1 : 1
  return a.seq - b.seq
}

const field = (r: AuditRecord, key: string): unknown => (r as unknown as Record<string, unknown>)[key]

export async function auditLogContract (
  t: Test, name: string, open: () => Promise<AuditLog>, reopen?: (log: AuditLog) => Promise<AuditLog>
): Promise<void> {
  const fresh = async (t: Test): Promise<AuditLog> => {
    const log = await open()
    t.teardown(async () => { await log.close() })
    return log
  }

  await t.test(`${name}: audit log contract`, async t => {
    await t.test('an empty log', async t => {
      const log = await fresh(t)
      t.same(log.head(), { seq: 0, hash: ZERO_DIGEST })
      t.same(await log.query({}, 10), { records: [], nextCursor: null })
      t.same(await collect(log.scan({})), [])
      t.same(await log.verify(), { ok: true, checked: 0 })
    })

    await t.test('appends chain in order: seq from 1, prevHash, hash of the content', async t => {
      const log = await fresh(t)
      const entries = [exchangeEntry(), adminEntry(), exchangeEntry({ outcome: 'denied', code: 'GOVEX_ERR_NO_GRANT', status: 403 })]
      const records = await appendAll(log, entries)
      let prev = ZERO_DIGEST
      records.forEach((r, i) => {
        t.equal(r.seq, i + 1)
        t.equal(r.gatewayId, log.gatewayId)
        t.equal(r.prevHash, prev)
        t.equal(r.hash, recordHash(r), 'hash is sha256 of the canonical record without hash')
        t.match(r.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
        t.match(r, entries[i] as object, 'the record carries the entry')
        prev = r.hash
      })
      t.ok(records.every((r, i) => i === 0 || (records[i - 1] as AuditRecord).ts <= r.ts), 'ts never goes back within a chain')
      t.same(log.head(), { seq: 3, hash: prev })
      await log.flush()
      t.same(await log.verify(), { ok: true, checked: 3 })
    })

    await t.test('concurrent appends keep seq in call order and a valid chain', async t => {
      const log = await fresh(t)
      const n = 200
      const records = await Promise.all(Array.from({ length: n }, async (_, i) => await log.append(exchangeEntry({ userId: `u${i}` }))))
      t.same(records.map(r => r.seq), Array.from({ length: n }, (_, i) => i + 1))
      t.same(records.map(r => field(r, 'userId')), Array.from({ length: n }, (_, i) => `u${i}`), 'seq follows the order of the calls')
      t.ok(records.every((r, i) => r.prevHash === (i === 0 ? ZERO_DIGEST : (records[i - 1] as AuditRecord).hash)))
      t.same(log.head(), { seq: n, hash: (records[n - 1] as AuditRecord).hash })
      t.same(await log.verify(), { ok: true, checked: n })
      t.same(await collect(log.scan({})), records)
      for (const range of [{}, { from: (records[0] as AuditRecord).ts }]) {
        const seen: number[] = []
        t.same(await log.verify({ ...range, onProgress: checked => { seen.push(checked) } }), { ok: true, checked: n })
        t.equal(seen.at(-1), n, `verify ${JSON.stringify(range)} reports progress up to the records checked`)
        t.ok(seen.every((v, i) => i === 0 || v >= (seen[i - 1] as number)), 'never going back')
      }
    })

    await t.test('query filters', async t => {
      const log = await fresh(t)
      const records = await appendAll(log, mixedEntries(60))
      const sorted = [...records].sort(byPosition)
      const cases: AuditFilter[] = [
        {},
        { consumer: 'tj.mca' },
        { provider: 'tj.civil' },
        { resource: 'tj.psb:household-registration' },
        { outcome: 'denied' },
        { outcome: 'error' },
        { kind: 'admin' },
        { kind: 'exchange', consumer: 'tj.hrss', outcome: 'allowed' },
        { userId: 'officer-1' },
        { caseRef: 'case-0' },
        { grantId: 'grant-1' },
        { code: 'GOVEX_ERR_NO_GRANT' },
        { gatewayId: log.gatewayId },
        { gatewayId: 'tj.gw.elsewhere' },
        { consumer: 'tj.nobody' },
        { provider: 'tj.civil', consumer: 'tj.mca', resource: 'tj.civil:marriage' }
      ]
      for (const filter of cases) {
        const want = sorted.filter(r => Object.entries(filter).every(([k, v]) => field(r, k) === v))
        t.same(await allPages(t, log, filter, 1000), want, `filter ${JSON.stringify(filter)}`)
      }
      t.ok((await log.query({ consumer: 'tj.mca' }, 1000)).records.length > 0, 'the filters select something')
      // from inclusive, to exclusive, in any ISO 8601 form
      const from = (sorted[10] as AuditRecord).ts
      const to = (sorted[40] as AuditRecord).ts
      const inRange = sorted.filter(r => r.ts >= from && r.ts < to)
      t.same(await allPages(t, log, { from, to }, 1000), inRange, 'from inclusive, to exclusive')
      t.same(await allPages(t, log, { from: from.replace('Z', '+00:00'), to }, 1000), inRange, 'offset form of the same instant')
      t.same(await allPages(t, log, { from: to, to: from }, 1000), [], 'an empty range')
      t.same(await allPages(t, log, { from: '2000-01-01T00:00:00Z', to: '2999-01-01T00:00:00Z', outcome: 'denied' }, 1000),
        sorted.filter(r => field(r, 'outcome') === 'denied'))
      await t.rejects(log.query({ from: 'yesterday' }, 10), { code: 'GOVEX_ERR_BAD_REQUEST' }, 'an unreadable date')
    })

    await t.test('paging with cursors', async t => {
      const log = await fresh(t)
      const records = await appendAll(log, mixedEntries(25))
      const first = await log.query({}, 10)
      t.same(first.records, records.slice(0, 10))
      t.type(first.nextCursor, 'string')
      const second = await log.query({}, 10, first.nextCursor as string)
      t.same(second.records, records.slice(10, 20))
      const third = await log.query({}, 10, second.nextCursor as string)
      t.same(third.records, records.slice(20))
      t.equal(third.nextCursor, null)
      t.same(await allPages(t, log, {}, 5), records, 'pages that fit exactly')
      t.same(await allPages(t, log, {}, 1), records, 'one record a page')
      const mca = records.filter(r => r.kind === 'exchange' && r.consumer === 'tj.mca')
      t.same(await allPages(t, log, { consumer: 'tj.mca' }, 3), mca, 'filtered pages')
      t.equal((await log.query({}, 25)).nextCursor, null, 'no cursor when the page holds the last record')
      // records appended after a page was read come on the next pages
      const upTo24 = await log.query({}, 24)
      const added = await log.append(exchangeEntry())
      t.same((await log.query({}, 10, upTo24.nextCursor as string)).records, [records[24], added])
    })

    await t.test('a cursor of another query, or a malformed one, is refused', async t => {
      const log = await fresh(t)
      await appendAll(log, mixedEntries(10))
      const page = await log.query({ consumer: 'tj.mca' }, 2)
      const cursor = page.nextCursor as string
      t.type(cursor, 'string')
      await t.rejects(log.query({ consumer: 'tj.hrss' }, 2, cursor), { code: 'GOVEX_ERR_BAD_REQUEST' })
      await t.rejects(log.query({}, 2, cursor), { code: 'GOVEX_ERR_BAD_REQUEST' })
      await t.rejects(log.query({ consumer: 'tj.mca' }, 2, 'not a cursor!'), { code: 'GOVEX_ERR_BAD_REQUEST' })
      await t.rejects(log.query({ consumer: 'tj.mca' }, 2, 'eyJ4IjoxfQ'), { code: 'GOVEX_ERR_BAD_REQUEST' }, 'JSON, but no cursor')
      t.equal((await log.query({ consumer: 'tj.mca' }, 2, cursor)).records.length, 2, 'the right query accepts it')
    })

    await t.test('scan streams every matching record in order', async t => {
      const log = await fresh(t)
      const records = await appendAll(log, mixedEntries(40))
      t.same(await collect(log.scan({})), records)
      t.same(await collect(log.scan({ outcome: 'denied' })), records.filter(r => field(r, 'outcome') === 'denied'))
      t.same(await collect(log.scan({ provider: 'tj.civil', kind: 'exchange' })), records.filter(r => r.kind === 'exchange' && r.provider === 'tj.civil'))
    })

    await t.test('close stops appends', async t => {
      const log = await open()
      await log.append(exchangeEntry())
      await log.close()
      await t.rejects(log.append(exchangeEntry()), { code: 'GOVEX_ERR_UNAVAILABLE' })
    })

    if (reopen !== undefined) {
      await t.test('reopening continues the chain', async t => {
        const log = await open()
        const before = await appendAll(log, mixedEntries(8))
        const head = log.head()
        const again = await reopen(log)
        t.teardown(async () => { await again.close() })
        t.same(again.head(), head)
        t.same(await collect(again.scan({})), before)
        const next = await again.append(exchangeEntry())
        t.equal(next.seq, 9)
        t.equal(next.prevHash, head.hash)
        t.same(await again.verify(), { ok: true, checked: 9 })
      })
    }
  })
}
