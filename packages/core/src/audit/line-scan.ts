// Checking stored audit lines without parsing them: verify's hot path. A line
// in the written form (canonical body, `hash` last: canonical-line.ts proves
// it byte by byte) is checked by hashing its bytes up to the hash member; any
// other line — a checkpoint, whose signature needs the parsed record, or a
// line not in canonical form — is parsed and checked by the definition.
import type { AuditRecord } from '../schemas/audit.js'
import { NEWLINE, COMMA, CLOSE_BRACE, SHA256_PREFIX, DIGEST_LENGTH, LineFields, bytesAre, readLine, releaseBuffer, sha256Hex } from './canonical-line.js'
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


const fields = new LineFields()

/** The last gatewayId read and its bytes: a chain's lines repeat it, so one string serves them all. */
let lastGatewayId = ''

function gatewayIdOf (b: Buffer, from: number, to: number): string {
  const known = lastGatewayId
  if (known.length === to - from) {
    let k = 0
    while (k < known.length && b[from + k] === known.charCodeAt(k)) k++
    if (k === known.length) return known
  }
  lastGatewayId = b.toString('latin1', from, to)
  return lastGatewayId
}


/**
 * The facts of the line at `s` when it is in the written form (its end in
 * fields.end), else undefined. The body is hashed in place: its bytes with a
 * `}` over the comma before "hash" (put back right after), so the buffer must
 * be the caller's own.
 */
function writtenFacts (b: Buffer, s: number): LineFacts | undefined {
  const f = fields
  if (!readLine(b, s, f)) return undefined
  // exchange and admin records only: a checkpoint's signature is checked on the parsed record
  let kind: string
  if (f.kind !== -1 && bytesAre(b, f.kind, f.kindEnd, 'exchange')) kind = 'exchange'
  else if (f.kind !== -1 && bytesAre(b, f.kind, f.kindEnd, 'admin')) kind = 'admin'
  else return undefined
  // a plain Uint8Array view: cheaper to make than a Buffer's subarray
  b[f.bodyEnd] = CLOSE_BRACE
  const hex = sha256Hex(new Uint8Array(b.buffer, b.byteOffset + s, f.bodyEnd + 1 - s))
  b[f.bodyEnd] = COMMA
  const hash = b.toString('latin1', f.hash, f.hashEnd)
  const sealed = hash.length === DIGEST_LENGTH && hash.startsWith(SHA256_PREFIX) && hash.endsWith(hex)
  return {
    gatewayId: f.gatewayId === -1 ? undefined : gatewayIdOf(b, f.gatewayId, f.gatewayIdEnd),
    seq: f.seq === -1 ? undefined : f.seq,
    prevHash: f.prevHash === -1 ? undefined : b.toString('latin1', f.prevHash, f.prevHashEnd),
    hash,
    ts: f.ts === -1 ? undefined : b.toString('latin1', f.ts, f.tsEnd),
    kind,
    sealed,
    record: undefined
  }
}

/** A line checked by the definition: parsed, re-serialised and hashed. */
function parsedFacts (line: string): LineFacts {
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

/**
 * Walks the lines of `b` (whole lines, each ending in a newline), calling
 * `each` with what verify needs of every non-empty one, until it returns
 * false; returns the number of lines walked. Lines in the written form are
 * checked without being decoded (and their ends found on the way); others are
 * decoded as UTF-8 and parsed. The buffer is briefly written to (and
 * restored), so it must be the caller's own.
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
    let facts = writtenFacts(b, from)
    let nl = fields.end
    if (facts === undefined) {
      nl = b.indexOf(NEWLINE, from)
      if (nl === -1) nl = e
      facts = parsedFacts(b.toString('utf8', from, nl))
    }
    if (!each(facts)) break
    from = nl + 1
  }
  releaseBuffer()
  return lines
}

/**
 * What verify needs of a stored line. Lines the log wrote take the fast path;
 * anything else (a checkpoint, an edited or unusual line) is parsed and
 * checked by the definition (the canonical JSON of the record without hash).
 */
export function inspectLine (line: string): LineFacts {
  const b = Buffer.from(line + '\n')
  const facts = writtenFacts(b, 0)
  // a string may hold more than one line: only the whole of it is in the written form
  if (facts !== undefined && fields.end === b.length - 1) return facts
  return parsedFacts(line)
}
