// Sealing audit records into a gateway's hash chain (MODEL.md "Audit record"):
// hash = sha256 of the canonical JSON of the record without `hash`, prevHash =
// the previous record's hash (ZERO_DIGEST for seq 1), seq from 1 without gaps.
import { sha256, ZERO_DIGEST } from '../canonical.js'
import { GovexError } from '../codes.js'
import type { AuditEntry, AuditRecord, CheckpointAuditEntry } from '../schemas/audit.js'
import type { ChainHead } from '../store/types.js'
import { recordBody, recordLine } from './record-json.js'

export interface ChainPosition {
  gatewayId: string
  seq: number
  /** ISO 8601 instant, as `Date.prototype.toISOString()` gives it */
  ts: string
  prevHash: string
}

export interface SealedRecord {
  record: AuditRecord
  /** the stored form: one line of JSON, no newline, `hash` last */
  line: string
}

/** The head of an empty chain. */
export const EMPTY_HEAD: ChainHead = Object.freeze({ seq: 0, hash: ZERO_DIGEST })

/** The record's hash as it should be (not the `hash` it carries). */
export function recordHash (record: object): string {
  return sha256(recordBody(record))
}

/** Seals an entry and returns it with its stored line, serialising once. */
export function sealLine (entry: AuditEntry | CheckpointAuditEntry, chain: ChainPosition): SealedRecord {
  // Chain fields first and `hash` last: the order MODEL.md shows; the hash
  // itself does not depend on key order. One object, sealed in place.
  const record = { gatewayId: chain.gatewayId, seq: chain.seq, ts: chain.ts, ...entry, prevHash: chain.prevHash, hash: '' }
  // An entry built in plain JS may carry chain fields of its own: the chain's win.
  record.gatewayId = chain.gatewayId
  record.seq = chain.seq
  record.ts = chain.ts
  let body: string
  try {
    // recordBody leaves `hash` out
    body = recordBody(record)
  } catch (err) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `audit entry ${JSON.stringify(entry.id)} cannot be sealed: ${(err as Error).message}; record only JSON values (no NaN, Infinity or lone surrogates in strings)`, { cause: err })
  }
  record.hash = sha256(body)
  return { record: record as AuditRecord, line: recordLine(body, record.hash) }
}

/** Seals an entry at the given chain position. */
export function sealRecord (entry: AuditEntry, chain: ChainPosition): AuditRecord {
  return sealLine(entry, chain).record
}

/**
 * The next record's timestamp: now, but never before the chain's last one, so
 * ordering a chain by ts (as queries and exports do) keeps it in seq order even
 * when the clock steps back.
 */
export function nextTimestamp (nowMs: number, lastTs: string | undefined): string {
  const ts = isoInstant(nowMs)
  return lastTs !== undefined && ts < lastTs ? lastTs : ts
}

/** The last whole second formatted, and its `YYYY-MM-DDTHH:MM:SS.` prefix. */
let cachedSecond = Number.NaN
let cachedPrefix = ''
/** 9999-12-31T23:59:59.999Z: toISOString's four-digit years end here. */
const LAST_FOUR_DIGIT_MS = 253402300799999

/**
 * `new Date(ms).toISOString()`, without a Date and its formatting for every
 * record: the second's prefix is formatted once and the milliseconds appended.
 * Anything but a whole ms in years 1970–9999 takes Date's own path.
 */
export function isoInstant (ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > LAST_FOUR_DIGIT_MS) return new Date(ms).toISOString()
  const milli = ms % 1000
  const second = ms - milli
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second).toISOString().slice(0, 20)
    cachedSecond = second
  }
  return cachedPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + String(milli) + 'Z'
}
