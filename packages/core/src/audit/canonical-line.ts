// Reading a stored audit line as bytes, without JSON.parse: verify's and the
// file index's hot path. A line the log wrote is the RFC 8785 canonical JSON
// of the record without `hash`, with `,"hash":"sha256:…"` put before its last
// brace. One pass over the bytes proves a line is exactly that form — every
// value in canonical spelling (numbers as ECMAScript prints them, strings with
// JSON.stringify's escapes only, valid UTF-8), every object's keys strictly in
// order, `hash` last — and notes where the top-level members are. For such a
// line the canonical JSON of the parsed record IS its text, so hashing the
// text up to the hash member decides `sealed` exactly as the definition does
// (MODEL.md "Audit record"). A line that is not in that form is left to the
// caller (undefined), who checks it the slow way, by parsing.
import * as crypto from 'node:crypto'
import { isUtf8 } from 'node:buffer'

/** Bytes and lengths the line readers (here, line-scan.ts, chunk-check.ts) share. */
export const NEWLINE = 10
const QUOTE = 34
export const COMMA = 44
const MINUS = 45
const DOT = 46
const ZERO = 48
const NINE = 57
const COLON = 58
const OPEN_BRACKET = 91
const BACKSLASH = 92
const CLOSE_BRACKET = 93
const OPEN_BRACE = 123
export const CLOSE_BRACE = 125
export const SHA256_PREFIX = 'sha256:'
/** `sha256:` and 64 hex digits */
export const DIGEST_LENGTH = SHA256_PREFIX.length + 64

/** Nesting deeper than this is left to the parser. */
const MAX_DEPTH = 32

// crypto.hash (Node ≥ 20.12) skips the Hash object: about twice as fast on short input
type OneShot = (algorithm: string, data: Uint8Array | string, encoding: 'hex') => string
const oneShot = (crypto as { hash?: OneShot }).hash
export const sha256Hex: (data: Uint8Array | string) => string = oneShot !== undefined
  ? data => oneShot('sha256', data, 'hex')
  : data => crypto.createHash('sha256').update(data).digest('hex')

/**
 * What readLine found of a line, as places in its buffer ([from, to) of each
 * value, strings without their quotes; -1 when absent or not of the type
 * looked for). One instance is reused for every line: nothing is allocated
 * per line.
 */
export class LineFields {
  /** index of the line's newline */
  end = 0
  /** the body hashed is the line up to here (the comma before `"hash"`), with a `}` in its place */
  bodyEnd = 0
  /** the seq, a whole number; -1 when absent */
  seq = -1
  gatewayId = -1
  gatewayIdEnd = -1
  ts = -1
  tsEnd = -1
  kind = -1
  kindEnd = -1
  prevHash = -1
  prevHashEnd = -1
  hash = -1
  hashEnd = -1
  // the members the file index keeps besides: strings (null when absent or of another type) and latencyMs
  consumer = -1
  consumerEnd = -1
  provider = -1
  providerEnd = -1
  resource = -1
  resourceEnd = -1
  outcome = -1
  outcomeEnd = -1
  code = -1
  codeEnd = -1
  grantId = -1
  grantIdEnd = -1
  userId = -1
  userIdEnd = -1
  caseRef = -1
  caseRefEnd = -1
  latencyMs = -1
  latencyMsEnd = -1
  /** a bit (ESCAPED) per index string above that holds an escape or a non-ASCII byte: decode it as JSON, not latin1 */
  escaped = 0

  reset (): void {
    this.seq = this.gatewayId = this.ts = this.kind = this.prevHash = this.hash = -1
    this.consumer = this.provider = this.resource = this.outcome = this.code = this.grantId = this.userId = this.caseRef = this.latencyMs = -1
    this.escaped = 0
  }
}

const NO_BYTES = Buffer.alloc(0)
// the buffer being read, as a DataView for word reads (unaligned, little-endian)
let view = new DataView(NO_BYTES.buffer as ArrayBuffer, 0, 0)
let viewOf: Buffer = NO_BYTES

/** Drops the reference to the last buffer read (call after a batch of lines: a read buffer is large). */
export function releaseBuffer (): void {
  view = new DataView(NO_BYTES.buffer as ArrayBuffer, 0, 0)
  viewOf = NO_BYTES
}

// previous key of each open object: [from, to) in the buffer
const keyFrom = new Int32Array(MAX_DEPTH)
const keyTo = new Int32Array(MAX_DEPTH)
const inObject = new Uint8Array(MAX_DEPTH)

/** Whether buf[from, to) is the ASCII `text`. */
export function bytesAre (buf: Uint8Array, from: number, to: number, text: string): boolean {
  if (to - from !== text.length) return false
  for (let k = 0; k < text.length; k++) if (buf[from + k] !== text.charCodeAt(k)) return false
  return true
}

/** Whether key [c, d) sorts strictly after key [a, b) (byte order is UTF-16 order for ASCII keys). */
function keyAfter (buf: Uint8Array, a: number, b: number, c: number, d: number): boolean {
  const la = b - a
  const lc = d - c
  const n = la < lc ? la : lc
  for (let k = 0; k < n; k++) {
    const x = buf[a + k] as number
    const y = buf[c + k] as number
    if (x !== y) return y > x
  }
  return lc > la
}

/** Whether a number's text [from, to) is how ECMAScript prints its value (checked by printing it). */
function printedAs (buf: Buffer, from: number, to: number): boolean {
  const text = buf.toString('latin1', from, to)
  return String(Number(text)) === text
}

/**
 * End of the canonical number at `i`, or -1. A plain decimal of at most 15
 * digits is canonical when it has no superfluous zero and is not -0 or below
 * 1e-6 (ECMAScript prints those otherwise): 15 digits always survive the trip
 * through a double, so its shortest form is itself. Anything longer or with an
 * exponent is printed and compared.
 */
function numberEnd (buf: Buffer, i: number): number {
  const start = i
  const negative = buf[i] === MINUS
  if (negative) i++
  const intStart = i
  let c = buf[i] as number
  if (c === ZERO) {
    c = buf[++i] as number
  } else if (c > ZERO && c <= NINE) {
    do c = buf[++i] as number; while (c >= ZERO && c <= NINE)
  } else {
    return -1
  }
  const intDigits = i - intStart
  let fracDigits = 0
  let leadingZeros = 0
  if (c === DOT) {
    const fracStart = ++i
    c = buf[i] as number
    while (c >= ZERO && c <= NINE) c = buf[++i] as number
    fracDigits = i - fracStart
    if (fracDigits === 0 || buf[i - 1] === ZERO) return -1
    if (intDigits === 1 && buf[intStart] === ZERO) {
      while (buf[fracStart + leadingZeros] === ZERO) leadingZeros++
    }
  }
  if (c === 101 || c === 69) {
    // e / E: rare in records; JSON syntax first, then the printed form decides
    c = buf[++i] as number
    if (c === 43 || c === MINUS) c = buf[++i] as number
    if (!(c >= ZERO && c <= NINE)) return -1
    do c = buf[++i] as number; while (c >= ZERO && c <= NINE)
    return printedAs(buf, start, i) ? i : -1
  }
  if (intDigits + fracDigits > 15) return printedAs(buf, start, i) ? i : -1
  if (leadingZeros > 5) return -1
  if (negative && fracDigits === 0 && intDigits === 1 && buf[intStart] === ZERO) return -1
  return i
}

/** Whether the 4 bytes after `\u` spell a control character JSON.stringify writes that way. */
function controlEscape (buf: Uint8Array, i: number): boolean {
  if (buf[i] !== ZERO || buf[i + 1] !== ZERO) return false
  const hi = buf[i + 2]
  const lo = buf[i + 3] as number
  const digit = lo >= ZERO && lo <= NINE ? lo - ZERO : lo >= 97 && lo <= 102 ? lo - 87 : -1
  if (digit === -1) return false
  if (hi === ZERO) return digit !== 8 && digit !== 9 && digit !== 10 && digit !== 12 && digit !== 13
  return hi === 49
}

/** Set by stringEnd: the string just read had an escape or a byte ≥ 0x80. */
let stringEscaped = false

/** Index just past the canonical string opening at `i`, or -1. */
function stringEnd (buf: Uint8Array, i: number): number {
  let high = 0
  let escaped = false
  const dv = view
  const last = buf.length - 4
  for (let j = i + 1; ; j++) {
    // four bytes at a time while none is a quote, a backslash, a control or ≥ 0x80 (SWAR "has a byte below n / equal to n")
    while (j <= last) {
      const x = dv.getUint32(j, true)
      const q = x ^ 0x22222222
      const b = x ^ 0x5c5c5c5c
      if ((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b) | x) & 0x80808080) break
      j += 4
    }
    const c = buf[j] as number
    if (c === QUOTE) {
      stringEscaped = escaped || high >= 128
      return j + 1
    }
    // a control character (a newline among them) never stands raw in JSON text; `!(c >= 32)` also stops at the buffer's end
    if (!(c >= 32)) return -1
    if (c === BACKSLASH) {
      const d = buf[++j]
      // the escapes JSON.stringify writes, and only those: \" \\ \b \f \n \r \t and \u00xx for other controls
      if (d === 117) {
        if (!controlEscape(buf, j + 1)) return -1
        j += 4
      } else if (d !== QUOTE && d !== BACKSLASH && d !== 98 && d !== 102 && d !== 110 && d !== 114 && d !== 116) {
        return -1
      }
      escaped = true
    }
    high |= c
  }
}

/**
 * Reads the line starting at `s` in `buf` (which holds whole lines, each
 * ending in a newline) into `out`; true when it is in the written form: a
 * canonical body and `hash` last. On false, `out` holds nothing of use and
 * the caller must find the line's end itself.
 */
export function readLine (buf: Buffer, s: number, out: LineFields): boolean {
  if (buf[s] !== OPEN_BRACE || buf[s + 1] !== QUOTE) return false
  if (viewOf !== buf) {
    view = new DataView(buf.buffer as ArrayBuffer, buf.byteOffset, buf.length)
    viewOf = buf
  }
  out.reset()
  let depth = 0
  inObject[0] = 1
  keyFrom[0] = -1
  let high = false
  let i = s + 1
  for (;;) {
    // at the start of a member (in an object) or an element (in an array)
    let key = -1
    let keyEnd = -1
    if (inObject[depth] === 1) {
      if (buf[i] !== QUOTE) return false
      key = i + 1
      let j = key
      for (let c = buf[j] as number; c !== QUOTE; c = buf[++j] as number) {
        // keys of other spellings are left to the parser
        if (!(c >= 32) || c === BACKSLASH || c >= 128) return false
      }
      keyEnd = j
      if (buf[j + 1] !== COLON) return false
      i = j + 2
      if (depth === 0 && keyEnd - key === 4 && buf[key] === 104 && buf[key + 1] === 97 && buf[key + 2] === 115 && buf[key + 3] === 104) {
        // "hash": the last member, a plain string, not the first
        if (keyFrom[0] === -1 || buf[i] !== QUOTE) return false
        const end = stringEnd(buf, i)
        if (end === -1 || stringEscaped || buf[end] !== CLOSE_BRACE || buf[end + 1] !== NEWLINE) return false
        out.hash = i + 1
        out.hashEnd = end - 1
        out.bodyEnd = key - 2
        out.end = end + 1
        return !high || isUtf8(buf.subarray(s, end + 1))
      }
      const previous = keyFrom[depth] as number
      if (previous !== -1 && !keyAfter(buf, previous, keyTo[depth] as number, key, keyEnd)) return false
      keyFrom[depth] = key
      keyTo[depth] = keyEnd
    }
    const start = i
    const c = buf[i] as number
    if (c === QUOTE) {
      i = stringEnd(buf, i)
      if (i === -1) return false
      if (stringEscaped) high = true
      if (depth === 0 && !stringValue(buf, out, key, keyEnd, start + 1, i - 1, stringEscaped)) return false
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth === 0 && !otherValue(buf, key, keyEnd)) return false
      if (++depth === MAX_DEPTH) return false
      i++
      if (c === OPEN_BRACE) {
        if (buf[i] !== CLOSE_BRACE) {
          inObject[depth] = 1
          keyFrom[depth] = -1
          continue
        }
      } else if (buf[i] !== CLOSE_BRACKET) {
        inObject[depth] = 0
        continue
      }
      // {} or []
      depth--
      i++
    } else if (c === 110) {
      if (buf[i + 1] !== 117 || buf[i + 2] !== 108 || buf[i + 3] !== 108) return false
      i += 4
      if (depth === 0 && !otherValue(buf, key, keyEnd)) return false
    } else if (c === 116) {
      if (buf[i + 1] !== 114 || buf[i + 2] !== 117 || buf[i + 3] !== 101) return false
      i += 4
      if (depth === 0 && !otherValue(buf, key, keyEnd)) return false
    } else if (c === 102) {
      if (buf[i + 1] !== 97 || buf[i + 2] !== 108 || buf[i + 3] !== 115 || buf[i + 4] !== 101) return false
      i += 5
      if (depth === 0 && !otherValue(buf, key, keyEnd)) return false
    } else {
      i = numberEnd(buf, i)
      if (i === -1) return false
      if (depth === 0 && !numberValue(buf, out, key, keyEnd, start, i)) return false
    }
    // after a value: a comma, or the end of one or more containers
    for (;;) {
      const d = buf[i]
      if (d === COMMA) {
        i++
        break
      }
      // the top-level object ends only after "hash"
      if (depth === 0) return false
      if (d !== (inObject[depth] === 1 ? CLOSE_BRACE : CLOSE_BRACKET)) return false
      depth--
      i++
    }
  }
}

// ---- the top-level members, recognised by length and bytes (no string made per key) ----

const M_TS = 1
const M_SEQ = 2
const M_KIND = 3
const M_PREV = 4
const M_GATEWAY = 5
/** members up to here are the chain's: verify reads them, so they must have the type the log writes */
const M_CHAIN = 5
const M_CONSUMER = 6
const M_PROVIDER = 7
const M_RESOURCE = 8
const M_OUTCOME = 9
const M_CODE = 10
const M_GRANT = 11
const M_USER = 12
const M_CASE = 13
const M_LATENCY = 14

/** Bits of LineFields.escaped. */
export const ESCAPED = {
  consumer: 1 << M_CONSUMER,
  provider: 1 << M_PROVIDER,
  resource: 1 << M_RESOURCE,
  outcome: 1 << M_OUTCOME,
  code: 1 << M_CODE,
  grantId: 1 << M_GRANT,
  userId: 1 << M_USER,
  caseRef: 1 << M_CASE
} as const

// Key names as little-endian words: a key is told by its length, then one to three word compares.
const W_TS = 0x7374 // 'ts'
const W_SE = 0x6573 // 'se'
const W_KIND = 0x646e696b
const W_CODE = 0x65646f63
const W_USER = 0x72657375
const W_ID = 0x6449 // 'Id'
const W_GRAN = 0x6e617267
const W_NTID = 0x6449746e // grantId = 'gran' + 'ntId' (overlapping)
const W_OUTC = 0x6374756f
const W_COME = 0x656d6f63
const W_CASE = 0x65736163
const W_EREF = 0x66655265
const W_PREV = 0x76657270
const W_HASH = 0x68736148
const W_CONS = 0x736e6f63
const W_UMER = 0x72656d75
const W_PROV = 0x766f7270
const W_IDER = 0x72656469
const W_RESO = 0x6f736572
const W_URCE = 0x65637275
const W_GATE = 0x65746167
const W_WAYI = 0x49796177
const W_LATE = 0x6574616c
const W_NCYM = 0x4d79636e

/** Which member a top-level key names (0: none of interest). */
function memberOf (buf: Uint8Array, key: number, keyEnd: number): number {
  const dv = view
  switch (keyEnd - key) {
    case 2: return dv.getUint16(key, true) === W_TS ? M_TS : 0
    case 3: return dv.getUint16(key, true) === W_SE && buf[key + 2] === 113 ? M_SEQ : 0
    case 4: {
      const w = dv.getUint32(key, true)
      return w === W_KIND ? M_KIND : w === W_CODE ? M_CODE : 0
    }
    case 6: return dv.getUint32(key, true) === W_USER && dv.getUint16(key + 4, true) === W_ID ? M_USER : 0
    case 7: {
      const w = dv.getUint32(key, true)
      const v = dv.getUint32(key + 3, true)
      return w === W_GRAN && v === W_NTID ? M_GRANT : w === W_OUTC && v === W_COME ? M_OUTCOME : w === W_CASE && v === W_EREF ? M_CASE : 0
    }
    case 8: {
      const w = dv.getUint32(key, true)
      const v = dv.getUint32(key + 4, true)
      return w === W_PREV && v === W_HASH
        ? M_PREV
        : w === W_CONS && v === W_UMER ? M_CONSUMER : w === W_PROV && v === W_IDER ? M_PROVIDER : w === W_RESO && v === W_URCE ? M_RESOURCE : 0
    }
    case 9: {
      const w = dv.getUint32(key, true)
      const v = dv.getUint32(key + 4, true)
      const z = buf[key + 8]
      return w === W_GATE && v === W_WAYI && z === 100 ? M_GATEWAY : w === W_LATE && v === W_NCYM && z === 115 ? M_LATENCY : 0
    }
    default: return 0
  }
}

/**
 * A top-level value that is neither a string nor a number: fine (the index
 * keeps such a member as null) unless it is one of the chain's members.
 */
function otherValue (buf: Uint8Array, key: number, keyEnd: number): boolean {
  const member = memberOf(buf, key, keyEnd)
  return member === 0 || member > M_CHAIN
}

function stringValue (buf: Uint8Array, out: LineFields, key: number, keyEnd: number, from: number, to: number, escaped: boolean): boolean {
  const member = memberOf(buf, key, keyEnd)
  if (member === 0) return true
  // the chain's strings are read as latin1: an escaped one goes to the parser
  if (member <= M_CHAIN && escaped) return false
  switch (member) {
    case M_TS: out.ts = from; out.tsEnd = to; return true
    case M_KIND: out.kind = from; out.kindEnd = to; return true
    case M_PREV: out.prevHash = from; out.prevHashEnd = to; return true
    case M_GATEWAY: out.gatewayId = from; out.gatewayIdEnd = to; return true
    // a string seq is the parser's business; a string latencyMs the index keeps as null
    case M_SEQ: return false
    case M_LATENCY: return true
  }
  if (escaped) out.escaped |= 1 << member
  switch (member) {
    case M_CONSUMER: out.consumer = from; out.consumerEnd = to; break
    case M_PROVIDER: out.provider = from; out.providerEnd = to; break
    case M_RESOURCE: out.resource = from; out.resourceEnd = to; break
    case M_OUTCOME: out.outcome = from; out.outcomeEnd = to; break
    case M_CODE: out.code = from; out.codeEnd = to; break
    case M_GRANT: out.grantId = from; out.grantIdEnd = to; break
    case M_USER: out.userId = from; out.userIdEnd = to; break
    case M_CASE: out.caseRef = from; out.caseRefEnd = to; break
  }
  return true
}

function numberValue (buf: Uint8Array, out: LineFields, key: number, keyEnd: number, from: number, to: number): boolean {
  const member = memberOf(buf, key, keyEnd)
  if (member === M_LATENCY) {
    out.latencyMs = from
    out.latencyMsEnd = to
    return true
  }
  if (member === M_SEQ) {
    // a whole number as the log writes it (canonical: no sign, no leading zero); else the parser's business
    if (to - from > 15) return false
    let n = 0
    for (let k = from; k < to; k++) {
      const d = (buf[k] as number) - ZERO
      if (d < 0 || d > 9) return false
      n = n * 10 + d
    }
    out.seq = n
    return true
  }
  return member === 0 || member > M_CHAIN
}
