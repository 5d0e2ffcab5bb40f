// How audit records are printed: a table for people, CSV and NDJSON for tools.
import type { AuditRecord, AuditStats } from '@govex/core'

/** Flat columns covering both record kinds; a column that does not apply is empty. */
export const CSV_COLUMNS = [
  'gatewayId', 'seq', 'ts', 'kind', 'id', 'consumer', 'provider', 'resource', 'userId', 'purpose', 'caseRef',
  'planId', 'planVersion', 'grantId', 'fields', 'actor', 'action', 'target', 'digest',
  'outcome', 'code', 'status', 'latencyMs', 'requestDigest', 'responseDigest', 'headSeq', 'headHash', 'kid', 'signature', 'prevHash', 'hash'
] as const

type Column = typeof CSV_COLUMNS[number]

function cell (r: AuditRecord, column: Column): unknown {
  const rec = r as unknown as Record<string, unknown>
  switch (column) {
    case 'planId': return r.kind === 'exchange' ? r.plan?.id : undefined
    case 'planVersion': return r.kind === 'exchange' ? r.plan?.version : undefined
    case 'fields': return r.kind === 'exchange' ? r.fields?.join(' ') : undefined
    case 'requestDigest': return r.kind === 'exchange' ? r.digests?.request : undefined
    case 'responseDigest': return r.kind === 'exchange' ? r.digests?.response : undefined
    case 'headSeq': return r.kind === 'checkpoint' ? r.head.seq : undefined
    case 'headHash': return r.kind === 'checkpoint' ? r.head.hash : undefined
    default: return rec[column]
  }
}

/** RFC 4180: quote when needed, double inner quotes; a leading =+-@ is quoted too, so spreadsheets do not run it. */
export function csvField (value: unknown): string {
  if (value === undefined || value === null) return ''
  const text = typeof value === 'string' ? value : String(value)
  if (/[",\r\n]/.test(text) || /^[=+\-@]/.test(text)) return '"' + text.replace(/"/g, '""') + '"'
  return text
}

export function csvHeader (): string {
  return CSV_COLUMNS.join(',') + '\n'
}

export function csvRow (r: AuditRecord): string {
  return CSV_COLUMNS.map(c => csvField(cell(r, c))).join(',') + '\n'
}

export function ndjsonRow (r: AuditRecord): string {
  return JSON.stringify(r) + '\n'
}

const TABLE_HEAD = ['TS', 'GATEWAY:SEQ', 'KIND', 'WHO', 'WHAT', 'OUTCOME', 'STATUS', 'CODE']

function tableCells (r: AuditRecord): string[] {
  if (r.kind === 'checkpoint') {
    return [r.ts, `${r.gatewayId}:${r.seq}`, 'checkpoint', r.kid, `signs seq ${r.head.seq}`, '', '', '']
  }
  const code = r.code === null ? '' : r.code.replace(/^GOVEX_ERR_/, '')
  if (r.kind === 'exchange') {
    return [r.ts, `${r.gatewayId}:${r.seq}`, 'exchange', r.consumer, r.resource ?? '', r.outcome, String(r.status), code]
  }
  return [r.ts, `${r.gatewayId}:${r.seq}`, 'admin', r.actor, r.target === null ? r.action : `${r.action} ${r.target}`, r.outcome, String(r.status), code]
}

/** A padded text table, column widths fitted to the page. */
export function formatTable (records: readonly AuditRecord[]): string {
  const rows = [TABLE_HEAD, ...records.map(tableCells)]
  const widths = TABLE_HEAD.map((_, i) => Math.max(...rows.map(row => (row[i] ?? '').length)))
  return rows.map(row => row.map((c, i) => i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n'
}

const STATS_HEAD = ['COUNT', 'ALLOWED', 'DENIED', 'ERROR', 'P50 MS', 'P95 MS', 'P99 MS']

/** Stats as a table: one row a group, largest first, numbers right-aligned. */
export function formatStats (stats: AuditStats): string {
  const ms = (v: number | null): string => v === null ? '-' : String(v)
  const rows = [[stats.by.toUpperCase(), ...STATS_HEAD], ...stats.groups.map(g => [
    g.key ?? '(none)', String(g.count), String(g.allowed), String(g.denied), String(g.error), ms(g.latencyMs.p50), ms(g.latencyMs.p95), ms(g.latencyMs.p99)
  ])]
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map(row => (row[i] ?? '').length))) ?? []
  const lines = rows.map(row => row.map((c, i) => i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)).join('  '))
  const range = `${stats.from ?? 'start'} to ${stats.to ?? 'now'}`
  return lines.join('\n') + `\n${stats.total} exchange records, ${range}\n`
}
