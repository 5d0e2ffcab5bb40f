// The bytes an audit record is hashed over (MODEL.md "Audit record": the RFC 8785
// canonical JSON of the record without `hash`), built fast for the two record
// shapes the log writes (one native JSON.stringify of the members in canonical
// order), and the one-line form the file log stores. Anything unusual (extra or
// missing keys, exotic values) falls back to canonicalJson, so the result is
// always exactly canonicalJson(record without hash) — test/audit-seal.test.ts
// checks it against the canonicalize package on generated records.
import { canonicalJson } from '../canonical.js'
import { LineFields, readLine, sha256Hex } from './canonical-line.js'

type Plain = Record<string, unknown>

function isPlainObject (value: object): value is Plain {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** A value JSON.stringify writes as RFC 8785 does: null, a boolean, a finite number or a string (lone surrogates are caught on the output). */
function flat (value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    default:
      return value === null
  }
}

/** A plain object of exactly the members `a` and `b`, both flat. */
function pairOf (value: unknown, a: string, b: string): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) return false
  return Object.keys(value).length === 2 && flat(value[a]) && flat(value[b])
}

/** Own members of a record besides `hash`. */
function membersOf (r: Plain): number {
  return Object.keys(r).length - (r.hash === undefined ? 0 : 1)
}

/**
 * The exchange record's canonical JSON, or undefined when it does not have
 * the shape the log writes: its members copied into an object literal whose
 * keys are in canonical order, nested objects rebuilt likewise, and handed
 * to JSON.stringify, which then writes exactly what RFC 8785 asks (strings
 * and numbers as ECMAScript prints them). A lone surrogate shows as a `\ud…`
 * escape in the output (canonicalize refuses it): such a record, or any
 * other value, takes the general path.
 */
function exchangeBody (r: Plain): string | undefined {
  if (membersOf(r) !== 20) return undefined
  const { caseRef, code, consumer, digests, fields, gatewayId, grantId, id, kind, latencyMs, outcome, plan, prevHash, provider, purpose, resource, seq, status, ts, userId } = r
  if (!(flat(caseRef) && flat(code) && flat(consumer) && flat(gatewayId) && flat(grantId) && flat(id) && flat(kind) && flat(latencyMs) &&
      flat(outcome) && flat(prevHash) && flat(provider) && flat(purpose) && flat(resource) && flat(seq) && flat(status) && flat(ts) && flat(userId))) return undefined
  if (digests !== null && !pairOf(digests, 'request', 'response')) return undefined
  if (plan !== null && !pairOf(plan, 'id', 'version')) return undefined
  if (fields !== null) {
    if (!Array.isArray(fields) || typeof (fields as { toJSON?: unknown }).toJSON === 'function') return undefined
    for (let i = 0; i < fields.length; i++) if (!flat(fields[i])) return undefined
  }
  const text = JSON.stringify({
    caseRef,
    code,
    consumer,
    digests: digests === null ? null : { request: digests.request, response: digests.response },
    fields,
    gatewayId,
    grantId,
    id,
    kind,
    latencyMs,
    outcome,
    plan: plan === null ? null : { id: plan.id, version: plan.version },
    prevHash,
    provider,
    purpose,
    resource,
    seq,
    status,
    ts,
    userId
  })
  return text.includes('\\ud') ? undefined : text
}

/** The admin record's canonical JSON, or undefined (see exchangeBody). */
function adminBody (r: Plain): string | undefined {
  if (membersOf(r) !== 13) return undefined
  const { action, actor, code, digest, gatewayId, id, kind, outcome, prevHash, seq, status, target, ts } = r
  if (!(flat(action) && flat(actor) && flat(code) && flat(digest) && flat(gatewayId) && flat(id) && flat(kind) && flat(outcome) &&
      flat(prevHash) && flat(seq) && flat(status) && flat(target) && flat(ts))) return undefined
  const text = JSON.stringify({ action, actor, code, digest, gatewayId, id, kind, outcome, prevHash, seq, status, target, ts })
  return text.includes('\\ud') ? undefined : text
}

function general (record: Plain): string {
  const { hash: _hash, ...rest } = record
  return canonicalJson(rest)
}

/** RFC 8785 canonical JSON of `record` without its `hash` member. */
export function recordBody (record: object): string {
  const r = record as Plain
  if (isPlainObject(r)) {
    const fast = r.kind === 'exchange' ? exchangeBody(r) : r.kind === 'admin' ? adminBody(r) : undefined
    if (fast !== undefined) return fast
  }
  return general(r)
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
