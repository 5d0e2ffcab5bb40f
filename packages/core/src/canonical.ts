// Canonical JSON (RFC 8785, via the `canonicalize` package) and the
// `sha256:<hex>` digests that plans, approvals and audit records are built on.
import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'

export const ZERO_DIGEST = 'sha256:' + '0'.repeat(64)
export const DIGEST_PATTERN = '^sha256:[0-9a-f]{64}$'

/** RFC 8785 canonical JSON of a JSON value. Throws a TypeError on values JSON cannot hold. */
export function canonicalJson (value: unknown): string {
  const text = canonicalize(value)
  if (text === undefined) throw new TypeError('value has no JSON form')
  return text
}

/** `sha256:<hex>` of bytes or of a UTF-8 string. */
export function sha256 (data: string | Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex')
}

/** `sha256:<hex>` of the canonical JSON of a value. */
export function digestOf (value: unknown): string {
  return sha256(canonicalJson(value))
}
