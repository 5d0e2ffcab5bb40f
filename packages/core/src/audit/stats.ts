// Audit statistics (GET /v1/audit/stats): exchange records counted per
// consumer, provider, resource or outcome, with latency percentiles. Fed from
// an index (file and memory logs: no record is read from disk) or from a scan.
import { GovexError } from '../codes.js'
import type { AuditFilter, AuditStats, AuditStatsBy, AuditStatsGroup } from '../store/types.js'
import { AUDIT_STATS_BY } from '../store/types.js'
import { normalizeFilter } from './query.js'

/** What stats look at of a record (an index entry or the record itself). */
export interface StatsFields {
  kind: string
  outcome?: string | undefined
  consumer?: string | null | undefined
  provider?: string | null | undefined
  resource?: string | null | undefined
  latencyMs?: number | null | undefined
}

const BY = new Set<string>(AUDIT_STATS_BY)

/** Checks `by`; GOVEX_ERR_BAD_REQUEST names the choices. */
export function checkStatsBy (by: unknown): AuditStatsBy {
  if (typeof by !== 'string' || !BY.has(by)) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `audit stats \`by\` must be one of ${AUDIT_STATS_BY.join(', ')}, got ${JSON.stringify(by)}`)
  }
  return by as AuditStatsBy
}

interface Group {
  key: string | null
  allowed: number
  denied: number
  error: number
  latencies: number[]
}

/** Nearest-rank percentile of an ascending array. */
export function percentile (sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.max(1, Math.ceil(p / 100 * sorted.length))
  return sorted[rank - 1] ?? null
}

export class StatsCollector {
  private readonly groups = new Map<string | null, Group>()
  private total = 0

  constructor (readonly by: AuditStatsBy) {}

  add (entry: StatsFields): void {
    if (entry.kind !== 'exchange') return
    const key = entry[this.by] ?? null
    let group = this.groups.get(key)
    if (group === undefined) {
      group = { key, allowed: 0, denied: 0, error: 0, latencies: [] }
      this.groups.set(key, group)
    }
    if (entry.outcome === 'allowed') group.allowed++
    else if (entry.outcome === 'denied') group.denied++
    else if (entry.outcome === 'error') group.error++
    const latency = entry.latencyMs
    if (typeof latency === 'number' && Number.isFinite(latency)) group.latencies.push(latency)
    this.total++
  }

  result (filter: AuditFilter): AuditStats {
    const groups: AuditStatsGroup[] = []
    for (const g of this.groups.values()) {
      const list = Float64Array.from(g.latencies).sort()
      groups.push({
        key: g.key,
        count: g.allowed + g.denied + g.error,
        allowed: g.allowed,
        denied: g.denied,
        error: g.error,
        latencyMs: { p50: percentile(list, 50), p95: percentile(list, 95), p99: percentile(list, 99) }
      })
    }
    groups.sort((a, b) => b.count - a.count || String(a.key).localeCompare(String(b.key)))
    return { by: this.by, from: filter.from ?? null, to: filter.to ?? null, total: this.total, groups }
  }
}

/** The filter stats apply: exchange records only. */
export function statsFilter (filter: AuditFilter = {}): AuditFilter {
  const normal = normalizeFilter(filter)
  if (normal.kind !== undefined && normal.kind !== 'exchange') return { ...normal, kind: normal.kind }
  return { ...normal, kind: 'exchange' }
}

/** Stats of every entry `source` yields (already filtered). */
export async function statsOf (source: Iterable<StatsFields> | AsyncIterable<StatsFields>, by: AuditStatsBy, filter: AuditFilter): Promise<AuditStats> {
  const collector = new StatsCollector(checkStatsBy(by))
  if (Symbol.iterator in source) {
    for (const entry of source) collector.add(entry)
  } else {
    for await (const entry of source) collector.add(entry)
  }
  return collector.result(filter)
}
