// Checking a stored audit line without parsing it: verify's hot path. A line in
// the form the log writes (canonical body, `hash` last) is proven by hashing
// its text up to the hash member; the few fields the chain walk needs (seq,
// prevHash, gatewayId, ts, kind) are found by one pass over the top level of
// the object, which skips nested values and strings by their delimiters. That
// is several times cheaper than JSON.parse plus re-serialising, and exact: a
// line that is not a flat object of the expected form goes the slow way.
import * as crypto from 'node:crypto'
import type { AuditRecord } from '../schemas/audit.js'
import { readRecordLine } from './verify-record.js'

export interface LineFacts {
  gatewayId: unknown
  seq: unknown
  prevHash: unknown
  hash: unknown
  ts: unknown
  kind: unknown
  /** the content matches the hash it carries */
  sealed: boolean
  /** the parsed record, when the line took the slow path (always for checkpoints: their signature is checked) */
  record: Partial<AuditRecord> | undefined
}

const QUOTE = 34
const BACKSLASH = 92
const COMMA = 44
const COLON = 58
const OPEN_BRACE = 123
const CLOSE_BRACE = 125
const OPEN_BRACKET = 91
const CLOSE_BRACKET = 93
const NEWLINE = 10

// crypto.hash (Node ≥ 20.12) skips the Hash object: about twice as fast on short input
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash
const sha256Hex = oneShot !== undefined
  ? (data: string): string => oneShot('sha256', data, 'hex')
  : (data: string): string => crypto.createHash('sha256').update(data).digest('hex')

/** Index just past the string opening at `i`, or -1. */
function skipString (s: string, i: number): number {
  let from = i + 1
  for (;;) {
    const q = s.indexOf('"', from)
    if (q === -1) return -1
    let b = q - 1
    while (s.charCodeAt(b) === BACKSLASH) b--
    // an even run of backslashes escapes only themselves
    if (((q - 1 - b) & 1) === 0) return q + 1
    from = q + 1
  }
}

/** Index just past the value starting at `i`, or -1. */
function skipValue (s: string, i: number): number {
  const c = s.charCodeAt(i)
  if (c === QUOTE) return skipString(s, i)
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j)
      if (d === QUOTE) {
        j = skipString(s, j)
        if (j === -1) return -1
        j--
      } else if (d === OPEN_BRACE || d === OPEN_BRACKET) {
        depth++
      } else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
        if (--depth === 0) return j + 1
      }
    }
    return -1
  }
  let j = i
  for (; j < s.length; j++) {
    const d = s.charCodeAt(j)
    if (d === COMMA || d === CLOSE_BRACE) break
  }
  return j === i ? -1 : j
}

/** A string value without escapes, or undefined. */
function plainString (s: string, start: number, end: number): string | undefined {
  if (s.charCodeAt(start) !== QUOTE || end - start < 2) return undefined
  const text = s.slice(start + 1, end - 1)
  return text.includes('\\') ? undefined : text
}

const INTEGER = /^(0|[1-9][0-9]{0,15})$/

/** The facts of a line by the fast path, or undefined when it must take the slow one. */
function scan (s: string): LineFacts | undefined {
  if (s.charCodeAt(0) !== OPEN_BRACE) return undefined
  let gatewayId: string | undefined
  let seq: number | undefined
  let prevHash: string | undefined
  let ts: string | undefined
  let kind: string | undefined
  let i = 1
  for (;;) {
    if (s.charCodeAt(i) !== QUOTE) return undefined
    const keyEnd = skipString(s, i)
    if (keyEnd === -1 || s.charCodeAt(keyEnd) !== COLON) return undefined
    const start = keyEnd + 1
    const end = skipValue(s, start)
    if (end === -1) return undefined
    const keyLength = keyEnd - i - 2
    // keys are compared in place: no string made per key
    if (keyLength === 4 && s.startsWith('hash', i + 1)) {
      // `hash` must be the last member, and the body before it what was hashed
      if (end !== s.length - 1 || s.charCodeAt(end) !== CLOSE_BRACE || s.charCodeAt(i - 1) !== COMMA) return undefined
      const hash = plainString(s, start, end)
      if (hash === undefined || kind === undefined || (kind !== 'exchange' && kind !== 'admin')) return undefined
      const sealed = hash.length === 71 && hash.startsWith('sha256:') && sha256Hex(s.slice(0, i - 1) + '}') === hash.slice(7)
      return { gatewayId, seq, prevHash, hash, ts, kind, sealed, record: undefined }
    }
    if (keyLength === 3 && s.startsWith('seq', i + 1)) {
      const text = s.slice(start, end)
      if (!INTEGER.test(text)) return undefined
      seq = Number(text)
    } else if (keyLength === 8 && s.startsWith('prevHash', i + 1)) {
      prevHash = plainString(s, start, end)
      if (prevHash === undefined) return undefined
    } else if (keyLength === 9 && s.startsWith('gatewayId', i + 1)) {
      gatewayId = plainString(s, start, end)
      if (gatewayId === undefined) return undefined
    } else if (keyLength === 2 && s.startsWith('ts', i + 1)) {
      ts = plainString(s, start, end)
      if (ts === undefined) return undefined
    } else if (keyLength === 4 && s.startsWith('kind', i + 1)) {
      kind = plainString(s, start, end)
      if (kind === undefined) return undefined
    }
    if (s.charCodeAt(end) !== COMMA) return undefined
    i = end + 1
  }
}

// ---- the same over bytes: a file's read buffer is never decoded to text ----

const KEY_HASH = Buffer.from('hash')
const KEY_SEQ = Buffer.from('seq')
const KEY_PREV = Buffer.from('prevHash')
const KEY_GATEWAY = Buffer.from('gatewayId')
const KEY_TS = Buffer.from('ts')
const KEY_KIND = Buffer.from('kind')

function keyIs (b: Buffer, at: number, length: number, key: Buffer): boolean {
  if (length !== key.length) return false
  for (let i = 0; i < length; i++) if (b[at + i] !== key[i]) return false
  return true
}

/** Index just past the string opening at `i` (b[i] is a quote), or -1. */
function skipStringBytes (b: Buffer, i: number, end: number): number {
  for (let j = i + 1; j < end; j++) {
    const c = b[j]
    if (c === BACKSLASH) j++
    else if (c === QUOTE) return j + 1
    // a raw newline is never inside a JSON string: this line is broken, not the next one's start
    else if (c === NEWLINE) return -1
  }
  return -1
}

function skipValueBytes (b: Buffer, i: number, end: number): number {
  const c = b[i]
  if (c === QUOTE) return skipStringBytes(b, i, end)
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0
    for (let j = i; j < end; j++) {
      const d = b[j]
      if (d === QUOTE) {
        j = skipStringBytes(b, j, end)
        if (j === -1) return -1
        j--
      } else if (d === OPEN_BRACE || d === OPEN_BRACKET) {
        depth++
      } else if ((d === CLOSE_BRACE || d === CLOSE_BRACKET) && --depth === 0) {
        return j + 1
      } else if (d === NEWLINE) {
        return -1
      }
    }
    return -1
  }
  let j = i
  while (j < end && b[j] !== COMMA && b[j] !== CLOSE_BRACE) {
    if (b[j] === NEWLINE) return -1
    j++
  }
  return j === i ? -1 : j
}

/** A string value of printable ASCII without escapes (ids, digests, instants), or undefined. */
function asciiValue (b: Buffer, start: number, end: number): string | undefined {
  if (b[start] !== QUOTE || end - start < 2) return undefined
  for (let i = start + 1; i < end - 1; i++) {
    const c = b[i] as number
    if (c < 32 || c > 126 || c === BACKSLASH) return undefined
  }
  return b.toString('latin1', start + 1, end - 1)
}

/** A non-negative integer as the log writes it, or undefined. */
function integerValue (b: Buffer, start: number, end: number): number | undefined {
  const length = end - start
  if (length < 1 || length > 15 || (length > 1 && b[start] === 48)) return undefined
  let n = 0
  for (let i = start; i < end; i++) {
    const d = (b[i] as number) - 48
    if (d < 0 || d > 9) return undefined
    n = n * 10 + d
  }
  return n
}

const hashBytes = oneShot !== undefined
  ? (data: Buffer): string => (oneShot as unknown as (a: string, d: Buffer, e: 'hex') => string)('sha256', data, 'hex')
  : (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex')

/** Where the line scanBytes last took ends (its newline's index). */
let scannedEnd = 0

/**
 * The facts of the line starting at `s` (the buffer holds whole lines up to
 * `e`), finding its end on the way: no separate search for the newline.
 */
function scanBytes (b: Buffer, s: number, e: number): LineFacts | undefined {
  if (b[s] !== OPEN_BRACE) return undefined
  let gatewayId: string | undefined
  let seq: number | undefined
  let prevHash: string | undefined
  let ts: string | undefined
  let kind: string | undefined
  let i = s + 1
  for (;;) {
    if (b[i] !== QUOTE) return undefined
    const keyEnd = skipStringBytes(b, i, e)
    if (keyEnd === -1 || b[keyEnd] !== COLON) return undefined
    const start = keyEnd + 1
    const end = skipValueBytes(b, start, e)
    if (end === -1) return undefined
    const keyAt = i + 1
    const keyLength = keyEnd - i - 2
    if (keyIs(b, keyAt, keyLength, KEY_HASH)) {
      if (b[end] !== CLOSE_BRACE || b[end + 1] !== NEWLINE || b[i - 1] !== COMMA) return undefined
      scannedEnd = end + 1
      const hash = asciiValue(b, start, end)
      if (hash === undefined || (kind !== 'exchange' && kind !== 'admin')) return undefined
      let sealed = false
      if (hash.length === 71 && hash.startsWith('sha256:')) {
        // hash the body as stored with `}` in place of the comma before "hash", then put the comma back
        b[i - 1] = CLOSE_BRACE
        sealed = hashBytes(b.subarray(s, i)) === hash.slice(7)
        b[i - 1] = COMMA
      }
      return { gatewayId, seq, prevHash, hash, ts, kind, sealed, record: undefined }
    }
    if (keyIs(b, keyAt, keyLength, KEY_SEQ)) {
      seq = integerValue(b, start, end)
      if (seq === undefined) return undefined
    } else if (keyIs(b, keyAt, keyLength, KEY_PREV)) {
      prevHash = asciiValue(b, start, end)
      if (prevHash === undefined) return undefined
    } else if (keyIs(b, keyAt, keyLength, KEY_GATEWAY)) {
      gatewayId = asciiValue(b, start, end)
      if (gatewayId === undefined) return undefined
    } else if (keyIs(b, keyAt, keyLength, KEY_TS)) {
      ts = asciiValue(b, start, end)
      if (ts === undefined) return undefined
    } else if (keyIs(b, keyAt, keyLength, KEY_KIND)) {
      kind = asciiValue(b, start, end)
      if (kind === undefined) return undefined
    }
    if (b[end] !== COMMA) return undefined
    i = end + 1
  }
}

/**
 * Walks the lines of `b` (whole lines, each ending in a newline), calling
 * `each` with what verify needs of every non-empty one, until it returns
 * false; returns the number of lines walked. Lines in the written form are
 * checked without being decoded (and their ends found on the way); others are
 * decoded as UTF-8 and take inspectLine's way. The buffer is briefly written
 * to (and restored), so it must be the caller's own.
 */
export function eachLine (b: Buffer, each: (facts: LineFacts) => boolean): number {
  const e = b.length
  let lines = 0
  for (let from = 0; from < e;) {
    lines++
    if (b[from] === NEWLINE) {
      from++
      continue
    }
    let facts = scanBytes(b, from, e)
    let nl = scannedEnd
    if (facts === undefined) {
      nl = b.indexOf(NEWLINE, from)
      if (nl === -1) nl = e
      facts = inspectLine(b.toString('utf8', from, nl))
    }
    if (!each(facts)) return lines
    from = nl + 1
  }
  return lines
}

/**
 * What verify needs of a stored line. Lines the log wrote take the fast path;
 * anything else (a checkpoint, an edited or unusual line) is parsed and
 * checked by the definition (the canonical JSON of the record without hash).
 */
export function inspectLine (line: string): LineFacts {
  const fast = scan(line)
  if (fast !== undefined) return fast
  const { record, sealed } = readRecordLine(line)
  return {
    gatewayId: record?.gatewayId,
    seq: record?.seq,
    prevHash: record?.prevHash,
    hash: record?.hash,
    ts: record?.ts,
    kind: record?.kind,
    sealed,
    record
  }
}
