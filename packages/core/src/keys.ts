// Ed25519 keys as JWKs (RFC 8037) and the small strict JWT signer/verifier the
// SDK's provider plugin, the CLI and the tests share. node:crypto only.
// KeyObjects are cached per JWK `x`: building one costs far more than a lookup.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto'
import type { PrivateJwk, PublicJwk } from './schemas/member.js'

export function b64url (data: string | Uint8Array): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString('base64url')
}

const B64URL_RE = /^[A-Za-z0-9_-]*$/

/** Decodes base64url; null when the text is not base64url (Buffer.from would silently skip bad characters). */
export function fromB64url (text: string): Buffer | null {
  if (!B64URL_RE.test(text) || text.length % 4 === 1) return null
  return Buffer.from(text, 'base64url')
}

/** A key id like `2026-05-3fa9c1`: the month of issue, so rotations sort, plus randomness. */
function defaultKid (): string {
  return new Date().toISOString().slice(0, 7) + '-' + randomBytes(3).toString('hex')
}

export function generateKeyPair (kid: string = defaultKid()): { privateJwk: PrivateJwk, publicJwk: PublicJwk } {
  const { privateKey } = generateKeyPairSync('ed25519')
  const jwk = privateKey.export({ format: 'jwk' })
  const privateJwk: PrivateJwk = { kid, kty: 'OKP', crv: 'Ed25519', x: jwk.x as string, d: jwk.d as string }
  return { privateJwk, publicJwk: publicJwkOf(privateJwk) }
}

export function publicJwkOf (privateJwk: PrivateJwk): PublicJwk {
  return { kid: privateJwk.kid, kty: 'OKP', crv: 'Ed25519', x: privateJwk.x }
}

// Bounded so a long-running process that meets many keys cannot grow without end;
// clearing everything when full is crude but keys are few and rebuilt cheaply.
const CACHE_MAX = 10_000
const publicKeys = new Map<string, KeyObject>()
const privateKeys = new Map<string, { d: string, key: KeyObject }>()
const pems = new Map<string, string>()

function remember<V> (cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= CACHE_MAX) cache.clear()
  cache.set(key, value)
  return value
}

function checkOkp (jwk: { kty?: unknown, crv?: unknown, x?: unknown }): void {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new TypeError('not an Ed25519 JWK: expected kty "OKP", crv "Ed25519" and x')
  }
}

export function publicKeyFromJwk (jwk: PublicJwk): KeyObject {
  const cached = publicKeys.get(jwk.x)
  if (cached !== undefined) return cached
  checkOkp(jwk)
  return remember(publicKeys, jwk.x, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' }))
}

export function privateKeyFromJwk (jwk: PrivateJwk): KeyObject {
  const cached = privateKeys.get(jwk.x)
  if (cached !== undefined && cached.d === jwk.d) return cached.key
  checkOkp(jwk)
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d }, format: 'jwk' })
  // A `d` that does not belong to `x` would sign with a key nobody can verify: refuse it.
  if (key.export({ format: 'jwk' }).x !== jwk.x) throw new TypeError(`private JWK ${jwk.kid}: d does not match x`)
  return remember(privateKeys, jwk.x, { d: jwk.d, key }).key
}

/** SPKI PEM of a public JWK: @fastify/jwt reuses its cached verifier only when the key is a string. */
export function publicKeyPem (jwk: PublicJwk): string {
  const cached = pems.get(jwk.x)
  if (cached !== undefined) return cached
  return remember(pems, jwk.x, publicKeyFromJwk(jwk).export({ type: 'spki', format: 'pem' }) as string)
}

export interface JwtHeader {
  alg: 'EdDSA'
  typ?: string
  kid?: string
  [name: string]: unknown
}

export type JwtClaims = Record<string, unknown>

export function signJwt (privateJwk: PrivateJwk, claims: JwtClaims): string {
  const input = b64url(JSON.stringify({ alg: 'EdDSA', typ: 'JWT', kid: privateJwk.kid })) + '.' + b64url(JSON.stringify(claims))
  return input + '.' + sign(null, Buffer.from(input, 'ascii'), privateKeyFromJwk(privateJwk)).toString('base64url')
}

export type JwtFailureReason =
  | 'malformed' | 'alg' | 'unknown-key' | 'signature' | 'expired' | 'not-yet-valid'
  | 'iat-future' | 'ttl' | 'audience' | 'issuer' | 'claims'

export type JwtResult =
  | { ok: true, header: JwtHeader, claims: JwtClaims }
  | { ok: false, reason: JwtFailureReason, message: string }

export interface VerifyJwtOptions {
  /** accepted `aud` values; the token's `aud` (string or array) must contain one */
  audience?: string | readonly string[] | undefined
  /** the required `iss` */
  issuer?: string | undefined
  /** largest `exp − iat` in seconds; when set, `iat` is required */
  maxTtlS?: number | undefined
  /** clock skew allowed on exp, nbf and iat, in seconds (default 30, PROTOCOL.md) */
  skewS?: number | undefined
  /** the current time in ms (default Date.now()) */
  now?: number | undefined
}

/** Finds the verification key for a token; undefined when none is known. */
export type JwtKeyResolver = (kid: string | undefined, claims: JwtClaims) => KeyObject | undefined

function fail (reason: JwtFailureReason, message: string): JwtResult {
  return { ok: false, reason, message }
}

function parseSegment (segment: string): Record<string, unknown> | null {
  const bytes = fromB64url(segment)
  if (bytes === null) return null
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null
  } catch {
    return null
  }
}

function isNumericDate (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

/**
 * Verifies a compact JWS JWT signed with Ed25519. Strict: `alg` must be EdDSA
 * (never `none` or HS*), `crit` is refused, `exp` is required, and time claims
 * are checked with the allowed skew.
 */
export function verifyJwt (token: string, resolveKey: JwtKeyResolver, options: VerifyJwtOptions = {}): JwtResult {
  if (typeof token !== 'string') return fail('malformed', 'the token is not a string')
  const dot1 = token.indexOf('.')
  const dot2 = token.indexOf('.', dot1 + 1)
  if (dot1 < 1 || dot2 < 0 || token.indexOf('.', dot2 + 1) !== -1 || dot2 === token.length - 1) {
    return fail('malformed', 'the token is not a compact JWS (header.payload.signature): send the JWT whole, as signed (govex token makes one)')
  }
  const header = parseSegment(token.slice(0, dot1))
  if (header === null) return fail('malformed', 'the token header is not base64url JSON: send the JWT whole, as signed (govex token makes one)')
  if (header.alg !== 'EdDSA') return fail('alg', `alg ${JSON.stringify(header.alg)} is refused: sign with Ed25519 (alg EdDSA)`)
  if (header.crit !== undefined) return fail('alg', 'the crit header is not supported: leave it out')
  if (header.kid !== undefined && typeof header.kid !== 'string') return fail('malformed', 'kid must be a string: name the signing key by its kid, or leave kid out')
  const claims = parseSegment(token.slice(dot1 + 1, dot2))
  if (claims === null) return fail('malformed', 'the token claims are not a base64url JSON object: send the JWT whole, as signed (govex token makes one)')
  const signature = fromB64url(token.slice(dot2 + 1))
  if (signature === null || signature.length !== 64) return fail('malformed', 'the signature is not a base64url Ed25519 signature: sign with the member\'s Ed25519 key (alg EdDSA)')

  const kid = header.kid as string | undefined
  const key = resolveKey(kid, claims)
  if (key === undefined) return fail('unknown-key', `no key known for iss ${JSON.stringify(claims.iss)}${kid === undefined ? '' : ` kid ${JSON.stringify(kid)}`}`)
  if (key.asymmetricKeyType !== 'ed25519') return fail('alg', 'the resolved key is not an Ed25519 public key')
  if (!verify(null, Buffer.from(token.slice(0, dot2), 'ascii'), key, signature)) return fail('signature', 'the token signature does not verify: sign it with the private key whose public key the member entry lists under this kid')

  const skewS = options.skewS ?? 30
  const nowS = (options.now ?? Date.now()) / 1000
  const { exp, iat, nbf } = claims
  if (!isNumericDate(exp)) return fail('claims', 'exp is required and must be a number of seconds')
  if (iat !== undefined && !isNumericDate(iat)) return fail('claims', 'iat must be a number of seconds: set it to the issue time in seconds since the epoch')
  if (nbf !== undefined && !isNumericDate(nbf)) return fail('claims', 'nbf must be a number of seconds: set it in seconds since the epoch, or leave it out')
  if (nowS >= exp + skewS) return fail('expired', 'the token has expired: get a new one')
  if (nbf !== undefined && nowS < nbf - skewS) return fail('not-yet-valid', 'the token is not valid yet (nbf): check the clock')
  if (iat !== undefined && iat > nowS + skewS) return fail('iat-future', 'the token was issued in the future (iat): check the clock')
  if (options.maxTtlS !== undefined) {
    if (iat === undefined) return fail('claims', 'iat is required: set iat to the issue time in seconds')
    if (exp - iat > options.maxTtlS) return fail('ttl', `the token lives ${exp - iat} s; at most ${options.maxTtlS} s is accepted`)
  }
  if (options.issuer !== undefined && claims.iss !== options.issuer) {
    return fail('issuer', `iss ${JSON.stringify(claims.iss)} is not ${JSON.stringify(options.issuer)}`)
  }
  if (options.audience !== undefined && !audienceMatches(claims.aud, options.audience)) {
    return fail('audience', `aud ${JSON.stringify(claims.aud)} is not accepted here: use ${JSON.stringify(options.audience)}`)
  }
  return { ok: true, header: header as JwtHeader, claims }
}

function audienceMatches (aud: unknown, accepted: string | readonly string[]): boolean {
  const ok = (value: unknown): boolean => typeof value === 'string' && (typeof accepted === 'string' ? value === accepted : accepted.includes(value))
  return Array.isArray(aud) ? aud.some(ok) : ok(aud)
}
