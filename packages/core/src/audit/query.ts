// Audit queries (PROTOCOL.md "Audit"): which records a filter selects and the
// order every listing uses, (ts, gatewayId, seq) oldest first.
import { canonicalJson, sha256 } from '../canonical.js'
import { GovexError } from '../codes.js'
import type { AuditFilter } from '../store/types.js'

/** The most records one page may hold (PROTOCOL.md: `limit` ≤ 1000). */
export const AUDIT_PAGE_MAX = 1000

/** The fields filters and ordering look at (admin records lack the exchange ones, checkpoints all but the chain's). */
export interface AuditKeyFields {
  ts: string
  gatewayId: string
  seq: number
  kind: string
  /** absent on checkpoints */
  outcome?: string
  code?: string | null
  consumer?: string | null
  provider?: string | null
  resource?: string | null
  userId?: string | null
  caseRef?: string | null
  grantId?: string | null
}

/** Where a record sits in the order of every listing. */
export interface AuditPosition {
  ts: string
  gatewayId: string
  seq: number
}

export function compareRecords (a: AuditPosition, b: AuditPosition): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1
  if (a.gatewayId !== b.gatewayId) return a.gatewayId < b.gatewayId ? -1 : 1
  return a.seq - b.seq
}

const EQUALITY_KEYS = ['consumer', 'provider', 'resource', 'outcome', 'kind', 'userId', 'caseRef', 'grantId', 'code', 'gatewayId'] as const

/**
 * Whether a record passes a filter. `from` (inclusive) and `to` (exclusive)
 * are compared as strings, so pass a filter through normalizeFilter first: it
 * puts them in the form records carry.
 */
export function matchesFilter (record: AuditKeyFields, filter: AuditFilter): boolean {
  for (const key of EQUALITY_KEYS) {
    const want = filter[key]
    if (want !== undefined && record[key] !== want) return false
  }
  if (filter.from !== undefined && record.ts < filter.from) return false
  if (filter.to !== undefined && record.ts >= filter.to) return false
  return true
}

/** A calendar date, or a date-time with seconds optional and a zone (Z or ±hh:mm). */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/

function instant (value: string, name: string): string {
  // Date.parse alone takes "1" for 2001 and many other non-ISO forms
  const ms = ISO_8601.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms)) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `audit filter \`${name}\` is not an ISO 8601 date-time: ${JSON.stringify(value)}; use e.g. 2026-11-27T08:00:00Z`)
  }
  return new Date(ms).toISOString()
}

/**
 * The filter with empty members dropped and `from`/`to` in the records' form
 * (`toISOString()`, UTC). Throws GOVEX_ERR_BAD_REQUEST for a date that does not parse.
 */
export function normalizeFilter (filter: AuditFilter): AuditFilter {
  const out: AuditFilter = {}
  for (const key of EQUALITY_KEYS) {
    const value = filter[key]
    if (value !== undefined) (out as Record<string, string>)[key] = value
  }
  if (filter.from !== undefined) out.from = instant(filter.from, 'from')
  if (filter.to !== undefined) out.to = instant(filter.to, 'to')
  return out
}

/** A short fingerprint of a (normalised) filter, so a cursor is bound to its query. */
export function filterKey (filter: AuditFilter): string {
  return sha256(canonicalJson(filter)).slice(7, 23)
}

/** Checks a page size: an integer from 1 to AUDIT_PAGE_MAX. */
export function checkLimit (limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_PAGE_MAX) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `audit page limit must be an integer from 1 to ${AUDIT_PAGE_MAX}, got ${String(limit)}`)
  }
  return limit
}
