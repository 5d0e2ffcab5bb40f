// Opaque audit page cursors: base64url JSON of the last record's position and
// a fingerprint of the query, so a cursor replayed against another query is
// refused instead of silently skipping or repeating records.
import { GovexError } from '../codes.js'
import type { AuditFilter } from '../store/types.js'
import { filterKey, type AuditPosition } from './query.js'

interface CursorBody {
  t: string
  g: string
  s: number
  f: string
}

/** The cursor after `position`, for the (normalised) `filter`. */
export function encodeCursor (position: AuditPosition, filter: AuditFilter): string {
  const body: CursorBody = { t: position.ts, g: position.gatewayId, s: position.seq, f: filterKey(filter) }
  return Buffer.from(JSON.stringify(body)).toString('base64url')
}

const MAX_CURSOR = 1024

/**
 * The position a cursor stands for. Throws GOVEX_ERR_BAD_REQUEST when the
 * cursor is malformed or belongs to a query with other filters.
 */
export function decodeCursor (cursor: string, filter: AuditFilter): AuditPosition {
  let body: Partial<CursorBody> | undefined
  if (cursor.length <= MAX_CURSOR && /^[A-Za-z0-9_-]+$/.test(cursor)) {
    try {
      body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorBody>
    } catch {
      body = undefined
    }
  }
  if (typeof body !== 'object' || body === null ||
      typeof body.t !== 'string' || typeof body.g !== 'string' || typeof body.f !== 'string' ||
      typeof body.s !== 'number' || !Number.isInteger(body.s)) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', 'malformed audit cursor: pass the nextCursor of the previous page unchanged, or omit it to start from the oldest record')
  }
  if (body.f !== filterKey(filter)) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', 'this audit cursor belongs to a query with other filters: repeat the same filters with it, or omit it to start from the oldest record')
  }
  return { ts: body.t, gatewayId: body.g, seq: body.s }
}
