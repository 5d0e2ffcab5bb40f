// A one-process store (the embedded file store) keeps its replay guard and
// quota counters in memory, so a restart would forget which envelope ids were
// used and how much of each grant's quota is spent — and accept a replay the
// protocol refuses (PROTOCOL.md: 409 within 24 h or the configured window).
// Both are written in the audit log already: every exchange that passed every
// check before the forward has a record with its envelope id, plan and grant.
// At open, the records of the window are read back into the guards.
import type { AuditRecord, ExchangeAuditRecord } from '../../schemas/audit.js'
import type { PlanRef } from '../../schemas/envelope.js'
import type { AuditLog } from '../types.js'
import type { MemoryReplayGuard } from './replay.js'
import type { MemoryQuotaCounter } from './quota.js'
import { envelopeKey } from '../../ids.js'

const DAY_MS = 86_400_000

/** The quota counter key of a grant: quotas are per grant of one plan. */
export function quotaKey (planId: string, grantId: string): string {
  return planId + '/' + grantId
}

/**
 * Whether the exchange consumed its envelope id and its quota: it passed every
 * check before the forward (PROTOCOL.md "Exchange"), so it was answered 200,
 * or the provider failed it (502/504).
 */
export function consumedGuards (record: AuditRecord): record is ExchangeAuditRecord & { grantId: string, plan: PlanRef } {
  if (record.kind !== 'exchange' || record.grantId === null || record.plan === null) return false
  return record.outcome === 'allowed' || record.code === 'GOVEX_ERR_UPSTREAM' || record.code === 'GOVEX_ERR_UPSTREAM_TIMEOUT'
}

export interface RestoreGuardsOptions {
  /** the replay window in seconds (limits.replayWindowS) */
  windowS: number
  /** the clock in ms */
  now?: number | undefined
}

export interface RestoredGuards {
  /** envelope ids still inside their window */
  ids: number
  /** exchanges counted into today's and this minute's quotas */
  counted: number
}

export async function restoreExchangeGuards (audit: AuditLog, replay: MemoryReplayGuard, quota: MemoryQuotaCounter, options: RestoreGuardsOptions): Promise<RestoredGuards> {
  const now = options.now ?? Date.now()
  const windowMs = options.windowS * 1000
  const dayStart = Math.floor(now / DAY_MS) * DAY_MS
  // the replay window, today from UTC midnight for perDay, and perMinute's last
  // two minutes, which reach into yesterday in the first minute of a day
  const quotaFrom = dayStart - 60_000
  const from = Math.min(now - windowMs, quotaFrom)
  let ids = 0
  let counted = 0
  // scan(), not query(): a file log just opened has no query index, and streams
  // its chains from the window's first line (found by binary search), so a
  // restart reads the window back without indexing the whole log
  const filter = { kind: 'exchange' as const, from: new Date(from).toISOString() }
  for await (const record of audit.scan(filter)) restore(record)
  return { ids, counted }

  function restore (record: AuditRecord): void {
    if (!consumedGuards(record)) return
    const at = Date.parse(record.ts)
    if (at + windowMs > now) {
      replay.seed(envelopeKey(record.id), at + windowMs)
      ids++
    }
    if (at >= quotaFrom) {
      quota.seed(quotaKey(record.plan.id, record.grantId), at)
      counted++
    }
  }
}
