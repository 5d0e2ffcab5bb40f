// restoreExchangeGuards(): the audit records of the replay window go back into
// a fresh replay guard and quota counter, so a one-process store forgets
// neither across a restart.
import t from 'tap'
import { MemoryQuotaCounter, MemoryReplayGuard, consumedGuards, quotaKey, restoreExchangeGuards } from '../src/index.js'
import type { AuditFilter, AuditLog, AuditRecord } from '../src/index.js'

const NOW = Date.parse('2026-11-27T12:00:30Z')

function record (id: string, ts: number, extra: Record<string, unknown> = {}): AuditRecord {
  return {
    gatewayId: 'tj.gw.1', seq: 1, ts: new Date(ts).toISOString(), kind: 'exchange', id,
    consumer: 'tj.mca', provider: 'tj.psb', resource: 'tj.psb:r', userId: null, purpose: 'p', caseRef: null,
    plan: { id: 'plan', version: 1 }, grantId: 'g1', fields: ['a'], outcome: 'allowed', code: null, status: 200,
    latencyMs: 1, digests: null, prevHash: 'sha256:' + '0'.repeat(64), hash: 'sha256:' + '0'.repeat(64), ...extra
  } as AuditRecord
}

/** A log that answers query() from `records`, one record a page (so paging is exercised). */
function logOf (records: AuditRecord[], seen: AuditFilter[] = []): AuditLog {
  return {
    async * scan (filter: AuditFilter) {
      seen.push(filter)
      for (const r of records) if (filter.from === undefined || r.ts >= filter.from) yield r
    }
  } as unknown as AuditLog
}

t.test('which records consumed an id and quota', async t => {
  t.ok(consumedGuards(record('a', NOW)))
  t.ok(consumedGuards(record('a', NOW, { outcome: 'error', code: 'GOVEX_ERR_UPSTREAM', status: 502 })))
  t.ok(consumedGuards(record('a', NOW, { outcome: 'error', code: 'GOVEX_ERR_UPSTREAM_TIMEOUT', status: 504 })))
  t.notOk(consumedGuards(record('a', NOW, { outcome: 'denied', code: 'GOVEX_ERR_REPLAY', status: 409 })), 'a refused replay consumed nothing')
  t.notOk(consumedGuards(record('a', NOW, { outcome: 'denied', code: 'GOVEX_ERR_QUOTA', status: 429 })))
  t.notOk(consumedGuards(record('a', NOW, { outcome: 'error', code: 'GOVEX_ERR_UNAVAILABLE', status: 503, grantId: null, plan: null })))
  t.equal(quotaKey('plan', 'g1'), 'plan/g1')
})

t.test('ids inside the window come back; older ones and refused ones do not', async t => {
  const seen: AuditFilter[] = []
  const records = [
    record('OLD', NOW - 3_601_000),
    record('Recent', NOW - 3_599_000),
    record('denied', NOW - 1000, { outcome: 'denied', code: 'GOVEX_ERR_PURPOSE_NOT_GRANTED', status: 403 }),
    record('failed', NOW - 1000, { outcome: 'error', code: 'GOVEX_ERR_UPSTREAM', status: 502 })
  ]
  const replay = new MemoryReplayGuard({ now: () => NOW })
  const quota = new MemoryQuotaCounter()
  const restored = await restoreExchangeGuards(logOf(records, seen), replay, quota, { windowS: 3600, now: NOW })
  t.equal(restored.ids, 2)
  t.equal(seen[0]?.kind, 'exchange')
  t.equal(await replay.claim('recent', 3600), false, 'lower-cased, still held')
  t.equal(await replay.claim('failed', 3600), false)
  t.equal(await replay.claim('old', 3600), true, 'outside the window')
  t.equal(await replay.claim('denied', 3600), true, 'never consumed')
})

t.test('quota counts of today and this minute come back', async t => {
  const minuteStart = Math.floor(NOW / 60_000) * 60_000
  const records = [
    record('y', Date.parse('2026-11-26T23:58:00Z')), // yesterday: not today's
    record('a', minuteStart - 30_000), // the previous minute
    record('b', minuteStart + 1000),
    record('c', minuteStart + 2000, { grantId: 'g2' })
  ]
  const quota = new MemoryQuotaCounter()
  const restored = await restoreExchangeGuards(logOf(records), new MemoryReplayGuard({ now: () => NOW }), quota, { windowS: 86_400, now: NOW })
  t.equal(restored.counted, 3, 'from a minute before UTC midnight on')
  t.same(await quota.consume('plan/g1', { perDay: 2 }, NOW), { ok: false, retryAfterS: 43_170, window: 'day' }, 'two today: the day is spent')
  t.same(await quota.consume('plan/g2', { perDay: 2 }, NOW), { ok: true })
  t.match(await quota.consume('plan/g1', { perMinute: 1 }, NOW), { ok: false, window: 'minute' }, 'one this minute already')
})

t.test('fix-restore-previous-minute-at-midnight: a short replay window still reads the minute before midnight back', async t => {
  // 30 s into the day, with a 5 s replay window: the rolling minute still
  // weighs the last minute of yesterday, so its records must be read too
  const now = Date.parse('2026-11-28T00:00:30Z')
  const records = [
    record('a', Date.parse('2026-11-27T23:59:05Z')),
    record('b', Date.parse('2026-11-27T23:59:10Z'))
  ]
  const quota = new MemoryQuotaCounter()
  const restored = await restoreExchangeGuards(logOf(records), new MemoryReplayGuard({ now: () => now }), quota, { windowS: 5, now })
  t.equal(restored.counted, 2, 'the previous minute counted')
  t.match(await quota.consume('plan/g1', { perMinute: 1 }, now), { ok: false, window: 'minute' }, 'half of two still in the rolling minute')
})

t.test('opening the file store restores the guards without indexing the whole log', async t => {
  const { mkdtemp, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { openFileStores } = await import('../src/index.js')
  const { FileAuditLog } = await import('../src/store/file/audit-log.js')
  const { exchangeEntry } = await import('../src/store/audit-contract.js')
  const dir = await mkdtemp(join(tmpdir(), 'govex-restore-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const start = Date.now()
  let clock = start - 3 * 86_400_000
  const log = await FileAuditLog.open({ dir: join(dir), gatewayId: 'tj.gw.a', now: () => (clock += 60_000) })
  const used: string[] = []
  // three days of exchanges, a minute apart: only the last day's ids are in the window
  // appends seal in call order (seq, ts, prevHash), so the lines are those of awaiting each in turn; group commit writes them in a few fsyncs
  const appends: Array<Promise<unknown>> = []
  for (let i = 0; i < 3 * 1440 - 10; i++) {
    const entry = exchangeEntry()
    used.push(entry.id)
    appends.push(log.append(entry))
  }
  await Promise.all(appends)
  await log.close()
  const stores = await openFileStores({ dir, gatewayId: 'tj.gw.a', replayWindowS: 86_400 })
  t.teardown(async () => { await stores.close() })
  t.equal((stores.audit as unknown as { indexBuildMs: number | null }).indexBuildMs, null, 'the restore built no index')
  t.same(await stores.admit({ id: String(used.at(-1)), windowS: 86_400 }), { ok: false, reason: 'replay' }, 'the last id is held')
  t.same(await stores.admit({ id: String(used.at(-1400)), windowS: 86_400 }), { ok: false, reason: 'replay' }, 'an id of 23 h ago is held')
  t.same(await stores.admit({ id: String(used[0]), windowS: 86_400 }), { ok: true }, 'an id of three days ago is free')
})
