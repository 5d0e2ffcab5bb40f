// query() and scan() on top of an index (Listing), shared by the memory and file
// logs: filter normalised once, cursor bound to it, records read per page.
import type { AuditRecord } from '../schemas/audit.js'
import type { AuditFilter, AuditPage } from '../store/types.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { checkLimit, normalizeFilter, type AuditPosition } from './query.js'
import type { Listing } from './record-index.js'

export type ReadEntries<E> = (entries: readonly E[]) => AuditRecord[] | Promise<AuditRecord[]>

/** Records read per step of a scan: bounded memory whatever the export's size. */
const SCAN_STEP = 256

export async function queryIndex<E extends AuditPosition> (
  index: Listing<E>, read: ReadEntries<E>, filter: AuditFilter, limit: number, cursor?: string
): Promise<AuditPage> {
  const normal = normalizeFilter(filter)
  checkLimit(limit)
  const after = cursor === undefined ? undefined : decodeCursor(cursor, normal)
  const { items, more } = index.select(normal, after, limit)
  const records = await read(items)
  const last = items[items.length - 1]
  return { records, nextCursor: more && last !== undefined ? encodeCursor(last, normal) : null }
}

export async function * scanIndex<E extends AuditPosition> (
  index: Listing<E>, read: ReadEntries<E>, filter: AuditFilter
): AsyncGenerator<AuditRecord> {
  const normal = normalizeFilter(filter)
  let after: AuditPosition | undefined
  for (;;) {
    // Step by position, not by array index: records appended meanwhile land
    // in place without skipping or repeating any.
    const { items, more } = index.select(normal, after, SCAN_STEP)
    yield * await read(items)
    const last = items[items.length - 1]
    if (!more || last === undefined) return
    after = last
  }
}
