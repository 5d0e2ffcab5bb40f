// Plan approvals (PROTOCOL.md "Members, directories, plans"): an approver signs
// the plan's digest string `sha256:<hex>` as a detached JWS, header
// {"alg":"EdDSA","kid":...}. The signature is kept with the plan so anyone can
// check it later against the approver's published keys, without the gateway.
import { DIGEST_PATTERN } from '../canonical.js'
import { GovexError } from '../codes.js'
import { parseDetached, signDetached, verifyDetached } from '../jws.js'
import { publicKeyFromJwk } from '../keys.js'
import type { Member, PrivateJwk } from '../schemas/member.js'

const DIGEST_RE = new RegExp(DIGEST_PATTERN)

export function signApproval (digest: string, privateJwk: PrivateJwk): string {
  if (!DIGEST_RE.test(digest)) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `${JSON.stringify(digest)} is not a plan digest: sign the sha256:<hex> that \`govex plan digest\` prints`)
  }
  return signDetached(digest, privateJwk)
}

export type ApprovalCheck = { ok: true, kid: string } | { ok: false, reason: string }

/** Checks that `signature` is `approver`'s approval of `digest`; the reason says what is wrong. */
export function verifyApproval (signature: string, digest: string, approver: Member): ApprovalCheck {
  const parsed = parseDetached(signature)
  if (!parsed.ok) return parsed
  const { header } = parsed.jws
  if (header.alg !== 'EdDSA') return { ok: false, reason: `alg ${JSON.stringify(header.alg)} is refused: approvals are signed with Ed25519 (alg EdDSA)` }
  if (header.crit !== undefined || header.b64 !== undefined) return { ok: false, reason: 'crit and b64 headers are not supported: sign the digest string itself' }
  const kid = header.kid
  if (typeof kid !== 'string') return { ok: false, reason: 'the JWS header has no kid: name the approver key that signed' }
  const jwk = approver.keys.find(key => key.kid === kid)
  if (jwk === undefined) return { ok: false, reason: `${approver.id} has no key ${JSON.stringify(kid)}: sign with one of ${approver.keys.map(k => k.kid).join(', ')}` }
  if (!approver.roles.includes('approver')) return { ok: false, reason: `${approver.id} does not have the approver role` }
  if (!verifyDetached(parsed.jws, digest, publicKeyFromJwk(jwk))) {
    return { ok: false, reason: `the signature does not verify for digest ${digest} with ${approver.id} key ${kid}: sign the plan's current digest` }
  }
  return { ok: true, kid }
}
