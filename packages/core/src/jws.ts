// Detached-payload JWS in compact serialization (RFC 7515 Appendix F):
// `<b64url(header)>..<b64url(signature)>`, where the signing input still is
// `b64url(header) + '.' + b64url(payload)`. Plan approvals are made of these, so
// anyone holding the plan and the approver's public key can check them later.
import { sign, verify, type KeyObject } from 'node:crypto'
import { b64url, fromB64url, privateKeyFromJwk } from './keys.js'
import type { PrivateJwk } from './schemas/member.js'

export function signDetached (payload: string | Uint8Array, privateJwk: PrivateJwk): string {
  const header = b64url(JSON.stringify({ alg: 'EdDSA', kid: privateJwk.kid }))
  const signature = sign(null, Buffer.from(header + '.' + b64url(payload), 'ascii'), privateKeyFromJwk(privateJwk))
  return header + '..' + signature.toString('base64url')
}

export interface DetachedJws {
  header: Record<string, unknown>
  /** the header segment as sent: the signing input is built from these bytes, not a re-encoding */
  headerSegment: string
  signature: Buffer
}

export type ParseDetachedResult = { ok: true, jws: DetachedJws } | { ok: false, reason: string }

const FORM = /^([A-Za-z0-9_-]+)\.\.([A-Za-z0-9_-]+)$/

/** Splits and decodes a detached compact JWS; refuses anything that is not exactly that form. */
export function parseDetached (text: string): ParseDetachedResult {
  const match = typeof text === 'string' ? FORM.exec(text) : null
  if (match === null) return { ok: false, reason: 'not a detached JWS: expected <b64url(header)>..<b64url(signature)>' }
  const headerSegment = match[1] as string
  const headerBytes = fromB64url(headerSegment)
  const signature = fromB64url(match[2] as string)
  if (headerBytes === null || signature === null) return { ok: false, reason: 'the JWS segments are not base64url' }
  let header: unknown
  try {
    header = JSON.parse(headerBytes.toString('utf8'))
  } catch {
    return { ok: false, reason: 'the JWS header is not JSON' }
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return { ok: false, reason: 'the JWS header is not a JSON object' }
  return { ok: true, jws: { header: header as Record<string, unknown>, headerSegment, signature } }
}

/** Checks an Ed25519 signature of a parsed detached JWS over `payload`. */
export function verifyDetached (jws: DetachedJws, payload: string | Uint8Array, key: KeyObject): boolean {
  if (jws.signature.length !== 64 || key.asymmetricKeyType !== 'ed25519') return false
  return verify(null, Buffer.from(jws.headerSegment + '.' + b64url(payload), 'ascii'), key, jws.signature)
}
