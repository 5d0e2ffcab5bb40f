// Framework-free verification of a call from the gateway (PROTOCOL.md
// "Gateway → provider"): an EdDSA JWT by a trusted gateway key, `aud` = this
// provider, not expired, `digest` = sha256 of the exact body bytes, and `jti`,
// `resource`, `consumer`, `fields` = the body's requestId, resource, consumer,
// fields. Everything else is refused with a coded reason.
import type { KeyObject } from 'node:crypto'
import { PublicJwk, sha256, verifyJwt, publicKeyFromJwk, validateSchema } from '@govex/core'
import { optionsError } from './errors.js'

/**
 * A public JWK as read from a `.pub.json` file (JSON.parse, or `import … with
 * { type: 'json' }`, which types `kty` as string): checked to be an Ed25519
 * public key with a `kid` when the verifier is built.
 */
export type GatewayPublicJwk = Omit<PublicJwk, 'kty' | 'crv'> & { kty: string, crv: string }

export interface GatewayKey {
  /** the gateway's member id (`iss`) */
  gatewayId: string
  /** its public JWK (with `kid`) */
  key: GatewayPublicJwk
}

export interface VerifyOptions {
  /** this provider's member id: the `aud` the gateway signs for */
  providerId: string
  /** the gateway keys to trust (several for rotation or several gateways) */
  gatewayKeys: readonly GatewayKey[]
  /** clock skew allowed, seconds (default 30) */
  skewS?: number
  now?: () => number
}

/** What a verified gateway call tells the provider. */
export interface GatewayCall {
  requestId: string
  consumer: string
  resource: string
  purpose: string
  fields: string[]
  userId: string | null
  caseRef: string | null
  query: Record<string, unknown>
  gatewayId: string
}

export type VerifyResult = { ok: true, call: GatewayCall } | { ok: false, code: 'GOVEX_ERR_UNAUTHENTICATED', message: string }

type Headers = Record<string, string | string[] | undefined>

/** Builds a verifier once (keys are parsed here, not per call). */
export function createGatewayVerifier (options: VerifyOptions): (headers: Headers, rawBody: Uint8Array | string) => VerifyResult {
  if (typeof options?.providerId !== 'string' || options.providerId === '') throw optionsError('providerId is required: this provider\'s member id')
  if (!Array.isArray(options.gatewayKeys) || options.gatewayKeys.length === 0) throw optionsError('gatewayKeys: give at least one { gatewayId, key } to trust')
  const keys = new Map<string, { gatewayId: string, key: KeyObject }>()
  options.gatewayKeys.forEach((entry: GatewayKey | undefined, i) => {
    const where = `gatewayKeys[${i}]`
    if (typeof entry?.gatewayId !== 'string' || entry.gatewayId === '') throw optionsError(`${where}.gatewayId is required: the id of the gateway (its tokens' iss), e.g. "tj.gw.extranet-1"`)
    const checked = validateSchema(PublicJwk, entry.key)
    if (!checked.ok) throw optionsError(`${where}.key must be the gateway's Ed25519 public JWK with its kid ({ kid, kty: "OKP", crv: "Ed25519", x }, its .pub.json file): ` + checked.problems.map(p => `${p.path || '/'} ${p.message}`).join('; '))
    keys.set(entry.gatewayId + '\u0000' + checked.value.kid, { gatewayId: entry.gatewayId, key: publicKeyFromJwk(checked.value) })
  })
  const skewS = options.skewS ?? 30
  const now = options.now ?? Date.now

  return function verifyGatewayCall (headers, rawBody) {
    const auth = headers.authorization
    const value = Array.isArray(auth) ? auth[0] : auth
    if (value === undefined || !value.startsWith('Bearer ')) return refuse('no gateway token: expected Authorization: Bearer <gateway JWT>')
    const result = verifyJwt(value.slice(7), (kid, claims) => {
      const iss = typeof claims.iss === 'string' ? claims.iss : ''
      return kid === undefined ? undefined : keys.get(iss + '\u0000' + kid)?.key
    }, { audience: options.providerId, maxTtlS: 60, skewS, now: now() })
    if (!result.ok) return refuse('gateway token refused: ' + result.message)
    const claims = result.claims
    if (claims.digest !== sha256(rawBody)) return refuse('the body does not match the gateway token\'s digest: it was altered in transit')
    let body: Record<string, unknown>
    try {
      body = JSON.parse(typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8')) as Record<string, unknown>
    } catch {
      return refuse('the body is not JSON')
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return refuse('the body is not a JSON object')
    if (typeof claims.jti !== 'string' || body.requestId !== claims.jti) return refuse('the token\'s jti is not the body\'s requestId')
    if (typeof claims.resource !== 'string' || typeof claims.consumer !== 'string' || body.resource !== claims.resource || body.consumer !== claims.consumer) return refuse('the token and the body name different resources or consumers')
    if (typeof body.purpose !== 'string') return refuse('the body has no purpose')
    if (!sameFields(claims.fields, body.fields)) return refuse('the token and the body name different fields: the gateway signs the fields it allowed, in order')
    return {
      ok: true,
      call: {
        requestId: claims.jti,
        consumer: claims.consumer,
        resource: claims.resource,
        purpose: body.purpose,
        fields: body.fields,
        userId: typeof body.userId === 'string' ? body.userId : null,
        caseRef: typeof body.caseRef === 'string' ? body.caseRef : null,
        query: typeof body.query === 'object' && body.query !== null ? body.query as Record<string, unknown> : {},
        gatewayId: String(claims.iss)
      }
    }
  }
}

/** One-off verification; prefer createGatewayVerifier() to parse keys once. */
export function verifyGatewayCall (headers: Headers, rawBody: Uint8Array | string, options: VerifyOptions): VerifyResult {
  return createGatewayVerifier(options)(headers, rawBody)
}

/** The same field names in the same order: the fields the gateway granted are the fields asked for. */
function sameFields (claimed: unknown, sent: unknown): sent is string[] {
  return Array.isArray(claimed) && Array.isArray(sent) && claimed.length === sent.length &&
    sent.every((field, i) => typeof field === 'string' && field === claimed[i])
}

function refuse (message: string): VerifyResult {
  return { ok: false, code: 'GOVEX_ERR_UNAUTHENTICATED', message }
}
