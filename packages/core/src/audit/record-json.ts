// The bytes an audit record is hashed over (MODEL.md "Audit record": the RFC 8785
// canonical JSON of the record without `hash`), built fast for the two record
// shapes the log writes, and the one-line form the file log stores. Anything
// unusual (extra or missing keys, exotic values) falls back to canonicalJson, so
// the result is always exactly canonicalJson(record without hash).
import { canonicalJson } from '../canonical.js'
import { LineFields, readLine, sha256Hex } from './canonical-line.js'

const EXCHANGE_KEYS = [
  'gatewayId', 'seq', 'ts', 'kind', 'id', 'consumer', 'provider', 'resource', 'userId', 'purpose', 'caseRef',
  'plan', 'grantId', 'fields', 'outcome', 'code', 'status', 'latencyMs', 'digests', 'prevHash'
].sort()
const ADMIN_KEYS = [
  'gatewayId', 'seq', 'ts', 'kind', 'id', 'actor', 'action', 'target', 'digest', 'outcome', 'code', 'status', 'prevHash'
].sort()

// Lone surrogates make canonicalize throw; let it, so both paths agree.
const SURROGATE = /[\uD800-\uDFFF]/

type Plain = Record<string, unknown>

function isPlainObject (value: object): value is Plain {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Canonical JSON of a primitive, or undefined when the value needs the general path. */
function primitive (value: unknown): string | undefined {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string': return SURROGATE.test(value) ? undefined : JSON.stringify(value)
    case 'number': return Number.isFinite(value) ? JSON.stringify(value) : undefined
    case 'boolean': return value ? 'true' : 'false'
    default: return undefined
  }
}

/** One level of nesting (plan, digests, fields); deeper or odd values go to canonicalJson. */
function nested (value: object): string {
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) {
      const item = primitive(value[i])
      if (item === undefined) return canonicalJson(value)
      out += i === 0 ? item : ',' + item
    }
    return out + ']'
  }
  if (!isPlainObject(value)) return canonicalJson(value)
  const keys = Object.keys(value).sort()
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    const item = primitive(value[key])
    if (item === undefined || SURROGATE.test(key)) return canonicalJson(value)
    out += (i === 0 ? '' : ',') + JSON.stringify(key) + ':' + item
  }
  return out + '}'
}

function general (record: Plain): string {
  const { hash: _hash, ...rest } = record
  return canonicalJson(rest)
}

/** RFC 8785 canonical JSON of `record` without its `hash` member. */
export function recordBody (record: object): string {
  const r = record as Plain
  const keys = r.kind === 'exchange' ? EXCHANGE_KEYS : r.kind === 'admin' ? ADMIN_KEYS : undefined
  if (keys === undefined || !isPlainObject(r)) return general(r)
  const own = Object.keys(r).length - (r.hash === undefined ? 0 : 1)
  if (own !== keys.length) return general(r)
  let out = '{'
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    const value = r[key]
    let text = primitive(value)
    if (text === undefined) {
      if (typeof value !== 'object' || value === null) return general(r)
      text = nested(value)
    }
    out += (i === 0 ? '"' : ',"') + key + '":' + text
  }
  return out + '}'
}

const HASH_PREFIX = ',"hash":"'

/** The stored line (no newline): the canonical body with `hash` appended last. */
export function recordLine (body: string, hash: string): string {
  return body.slice(0, -1) + HASH_PREFIX + hash + '"}'
}

const fields = new LineFields()

/**
 * Whether a stored line is, byte for byte, a canonical body sealed with the
 * hash it carries: true means the record's content matches its hash without
 * re-serialising. false only means "not in the written form"; the caller then
 * checks the parsed record by the definition (recordBody).
 */
export function lineSealed (line: string, hash: string): boolean {
  const b = Buffer.from(line + '\n')
  if (!readLine(b, 0, fields) || fields.end !== b.length - 1) return false
  if (b.toString('latin1', fields.hash, fields.hashEnd) !== hash) return false
  b[fields.bodyEnd] = 125 // }
  return 'sha256:' + sha256Hex(b.subarray(0, fields.bodyEnd + 1)) === hash
}
