// Checking one record, or one stored line, by the definition of its hash
// (MODEL.md "Audit record"): the slow path every unusual line falls back to.
import type { AuditRecord } from '../schemas/audit.js'
import { recordHash } from './chain.js'
import { lineSealed } from './record-json.js'

/** Whether a record's content matches the hash it carries; false for anything that is not a record. */
export function isSealed (record: unknown): boolean {
  if (typeof record !== 'object' || record === null) return false
  const hash = (record as { hash?: unknown }).hash
  if (typeof hash !== 'string') return false
  try {
    return recordHash(record) === hash
  } catch {
    return false
  }
}

/**
 * A stored line parsed and checked: a line in the form the log writes is
 * checked by hashing its text (no re-serialising); any other line by the
 * definition. `record` is undefined for a line that is not a JSON object.
 */
export function readRecordLine (line: string): { record: Partial<AuditRecord> | undefined, sealed: boolean } {
  let record: unknown
  try {
    record = JSON.parse(line)
  } catch {
    return { record: undefined, sealed: false }
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return { record: undefined, sealed: false }
  const hash = (record as { hash?: unknown }).hash
  const sealed = typeof hash === 'string' && (lineSealed(line, hash) || isSealed(record))
  return { record: record as Partial<AuditRecord>, sealed }
}
