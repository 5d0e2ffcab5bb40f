// Audit statistics (GET /v1/audit/stats): exchange records counted per
// consumer, provider, resource or outcome, with latency percentiles. Fed from
// an index (file and memory logs: no record is read from disk) or from a scan.
import { GovexError } from '../codes.js'
import type { AuditFilter, AuditStats, AuditStatsBy, AuditStatsGroup } from '../store/types.js'
import { AUDIT_STATS_BY } from '../store/types.js'
import { matchesFilter, normalizeFilter } from './query.js'
import { ESCAPED, LineFields, readLine, releaseBuffer } from './canonical-line.js'
import { ByteDictionary, rowFieldsOfLine } from './column-index.js'

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

/** Where a string member of a line read by readLine is: [from, to) and its ESCAPED bit (0: never escaped). */
type Place = (f: LineFields) => [number, number, number]
const PLACES: Record<string, Place> = {
  consumer: f => [f.consumer, f.consumerEnd, ESCAPED.consumer],
  provider: f => [f.provider, f.providerEnd, ESCAPED.provider],
  resource: f => [f.resource, f.resourceEnd, ESCAPED.resource],
  outcome: f => [f.outcome, f.outcomeEnd, ESCAPED.outcome],
  code: f => [f.code, f.codeEnd, ESCAPED.code],
  grantId: f => [f.grantId, f.grantIdEnd, ESCAPED.grantId],
  userId: f => [f.userId, f.userIdEnd, ESCAPED.userId],
  caseRef: f => [f.caseRef, f.caseRefEnd, ESCAPED.caseRef],
  // the chain's members are never escaped in a line readLine takes
  kind: f => [f.kind, f.kindEnd, 0],
  gatewayId: f => [f.gatewayId, f.gatewayIdEnd, 0]
}

/** Compares buf[from, to) (ASCII) with a string as strings compare. */
function compareText (buf: Uint8Array, from: number, to: number, text: string): number {
  const n = Math.min(to - from, text.length)
  for (let k = 0; k < n; k++) {
    const d = (buf[from + k] as number) - text.charCodeAt(k)
    if (d !== 0) return d
  }
  return (to - from) - text.length
}

/**
 * Stats of stored lines read in blocks (a Redis stream read raw). A line in
 * the written form is judged and counted from its bytes (canonical-line.ts):
 * the filter's values compared as bytes, only the grouping value and the
 * outcome made strings (interned), so a million records make little garbage.
 * Any other line is parsed. Either way a line counts when the file index
 * would list its record (rowFieldsOf) and it passes the filter.
 */
export class LineStats extends StatsCollector {
  private readonly dict = new ByteDictionary()
  private readonly fields = new LineFields()
  private readonly view: StatsFields & Record<string, unknown> = { kind: 'exchange', outcome: undefined, latencyMs: null }

  /** Adds the records of `buf` (whole lines, each ending in a newline) that pass `filter` (normalised, see statsFilter). */
  addLines (buf: Buffer, filter: AuditFilter): void {
    const f = this.fields
    const checks: Array<[Place, string, Buffer]> = []
    for (const [key, place] of Object.entries(PLACES)) {
      const want = filter[key as keyof AuditFilter]
      if (want !== undefined) checks.push([place, want, Buffer.from(want, 'utf8')])
    }
    const byPlace = PLACES[this.by] as Place
    for (let s = 0; s < buf.length;) {
      if (readLine(buf, s, f)) {
        if (this.passes(buf, f, filter, checks)) {
          const view = this.view
          view.kind = this.text(buf, PLACES.kind as Place, f) as string
          view.outcome = this.text(buf, PLACES.outcome as Place, f) ?? undefined
          if (this.by !== 'outcome') (view as Record<string, unknown>)[this.by] = this.text(buf, byPlace, f)
          view.latencyMs = f.latencyMs === -1 ? null : Number(buf.toString('latin1', f.latencyMs, f.latencyMsEnd))
          this.add(view)
        }
        s = f.end + 1
        continue
      }
      let nl = buf.indexOf(10, s)
      if (nl === -1) nl = buf.length
      const row = rowFieldsOfLine(buf, s, nl)
      if (row !== undefined && matchesFilter(row, filter)) this.add(row)
      s = nl + 1
    }
    releaseBuffer()
  }

  /** matchesFilter for a line readLine took, on its bytes (a line without ts, gatewayId or seq is not listed). */
  private passes (buf: Buffer, f: LineFields, filter: AuditFilter, checks: ReadonlyArray<[Place, string, Buffer]>): boolean {
    if (f.ts === -1 || f.gatewayId === -1 || f.seq === -1) return false
    if (filter.from !== undefined && compareText(buf, f.ts, f.tsEnd, filter.from) < 0) return false
    if (filter.to !== undefined && compareText(buf, f.ts, f.tsEnd, filter.to) >= 0) return false
    for (const [place, want, bytes] of checks) {
      const [from, to, bit] = place(f)
      if (from === -1) return false
      if ((f.escaped & bit) !== 0) {
        if (JSON.parse(buf.toString('utf8', from - 1, to + 1)) !== want) return false
      } else if (to - from !== bytes.length || buf.compare(bytes, 0, bytes.length, from, to) !== 0) {
        return false
      }
    }
    return true
  }

  /** A string member, interned (null when absent or of another type). */
  private text (buf: Buffer, place: Place, f: LineFields): string | null {
    const [from, to, bit] = place(f)
    if (from === -1) return null
    if ((f.escaped & bit) !== 0) return JSON.parse(buf.toString('utf8', from - 1, to + 1)) as string
    return this.dict.string(this.dict.idOfBytes(buf, from, to))
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
