// Who is calling (PROTOCOL.md "Authentication"): a Bearer JWT signed with the
// caller's Ed25519 key, found by `iss` (and `kid`) in the in-memory member
// registry; `aud` the gateway id or its audience; `exp − iat` ≤ 300 s; 30 s of
// clock skew; `jti` required; any alg but EdDSA refused.
//
// Two verification paths give the same answers:
// - `lean` (default): core's strict verifyJwt on a miss, then a token → principal
//   cache checked for expiry and for member changes on every hit;
// - `fastify-jwt`: @fastify/jwt with fast-jwt's verifier cache (the key callback
//   returns a PEM string so the cached verifier is reused).
// bench/gateway measures both; the lean path is the faster (see its README).
import fastifyJwt from '@fastify/jwt'
import { verifyJwt } from '@govex/core'
import type { JwtClaims, Role } from '@govex/core'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { httpError } from './errors.js'
import type { Runtime, RuntimeMember, RuntimeState, VerificationKey } from './runtime.js'

export const MAX_TOKEN_TTL_S = 300
export const CLOCK_SKEW_S = 30

/** The authenticated caller of a request. */
export interface Principal {
  readonly id: string
  readonly roles: ReadonlySet<Role>
  readonly member: RuntimeMember
}

export type AuthMode = 'lean' | 'fastify-jwt'

export interface Authenticator {
  authenticate (request: FastifyRequest): Principal | Promise<Principal>
}

export interface AuthOptions {
  runtime: Runtime
  /** accepted `aud` values: the gateway id and the configured audience */
  audiences: readonly string[]
  now: () => number
  /** most tokens the lean path remembers */
  cacheSize?: number
}

function unauthenticated (message: string): Error {
  return httpError('GOVEX_ERR_UNAUTHENTICATED', message)
}

/**
 * Before the first load (Redis down at start) no caller can be known: fail
 * closed, 503, not 401. (During a later reload a caller the stale view knows
 * is still authenticated, so its refusal is audited; see memberHook.)
 */
function checkLoaded (runtime: Runtime): void {
  if (!runtime.loaded) throw httpError('GOVEX_ERR_UNAVAILABLE', 'the gateway has not loaded its members, catalog and plan yet: its stores do not answer; retry shortly')
}

const BEARER = /^Bearer +([^\s]+) *$/i

function bearerToken (request: FastifyRequest): string {
  const header = request.headers.authorization
  if (typeof header !== 'string' || header === '') throw unauthenticated('no token: send Authorization: Bearer <JWT> signed with your member key (govex token)')
  const match = BEARER.exec(header)
  if (match === null) throw unauthenticated('the Authorization header is not "Bearer <JWT>": send Authorization: Bearer <JWT> signed with your member key (govex token)')
  return match[1] as string
}

/** The member key a token names: `kid`, or the member's only key when there is no kid. */
function keyFor (state: RuntimeState, iss: unknown, kid: string | undefined): { member: RuntimeMember, key: VerificationKey } | string {
  if (typeof iss !== 'string') return 'the token has no iss: set iss to your member id'
  const member = state.members.get(iss)
  if (member === undefined) return `iss ${JSON.stringify(iss)} is not a registered member: set iss to your member id, or ask the operator to register it`
  const key = kid === undefined ? member.onlyKey : member.keys.get(kid)
  if (key === undefined) {
    return kid === undefined
      ? `${iss} has several keys: name the signing key with kid`
      : `${iss} has no key with kid ${JSON.stringify(kid)}: sign with a key of its member entry and name that key's kid`
  }
  return { member, key }
}

/** Claim checks beyond the signature that both paths share. */
function checkClaims (claims: JwtClaims, now: number): void {
  const { iat, exp, jti } = claims
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw unauthenticated('the token has no iat: set iat to the issue time in seconds')
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw unauthenticated(`the token has no exp: set exp to at most ${MAX_TOKEN_TTL_S} s after iat`)
  if (exp - iat > MAX_TOKEN_TTL_S) throw unauthenticated(`the token lives ${exp - iat} s; at most ${MAX_TOKEN_TTL_S} s is accepted`)
  if (iat * 1000 > now + CLOCK_SKEW_S * 1000) throw unauthenticated('the token was issued in the future (iat): check the clock')
  if (typeof jti !== 'string' || jti === '') throw unauthenticated('the token has no jti: give each token a unique id')
}

interface CachedToken {
  principal: Principal
  generation: number
  /** epoch ms after which the token is expired, skew included */
  expiresAt: number
}

function leanAuthenticator (options: AuthOptions): Authenticator {
  const { runtime, audiences, now } = options
  const cacheSize = options.cacheSize ?? 10_000
  const cache = new Map<string, CachedToken>()
  return {
    authenticate (request) {
      checkLoaded(runtime)
      const token = bearerToken(request)
      const state = runtime.state
      const at = now()
      const hit = cache.get(token)
      // A member change (new state) re-verifies: the key may be gone or the roles changed.
      if (hit !== undefined && hit.generation === state.generation && at < hit.expiresAt) return hit.principal
      let found: RuntimeMember | undefined
      let keyProblem: string | undefined
      const result = verifyJwt(token, (kid, claims) => {
        const match = keyFor(state, claims.iss, kid)
        if (typeof match === 'string') {
          keyProblem = match
          return undefined
        }
        found = match.member
        return match.key.key
      }, { audience: audiences, maxTtlS: MAX_TOKEN_TTL_S, skewS: CLOCK_SKEW_S, now: at })
      if (!result.ok) throw unauthenticated(result.reason === 'unknown-key' && keyProblem !== undefined ? keyProblem : result.message)
      checkClaims(result.claims, at)
      const member = found as RuntimeMember
      const principal: Principal = { id: member.member.id, roles: member.roles, member }
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string)
      cache.set(token, { principal, generation: state.generation, expiresAt: ((result.claims.exp as number) + CLOCK_SKEW_S) * 1000 })
      return principal
    }
  }
}

async function fastifyJwtAuthenticator (app: FastifyInstance, options: AuthOptions): Promise<Authenticator> {
  const { runtime, audiences, now } = options
  await app.register(fastifyJwt, {
    // Called with the decoded token; answering a PEM string lets fast-jwt reuse one cached verifier per key.
    secret: async (_request: FastifyRequest, token: unknown) => {
      const { header, payload } = token as { header: { kid?: unknown }, payload: JwtClaims }
      if (header.kid !== undefined && typeof header.kid !== 'string') throw unauthenticated('kid must be a string: name the signing key by its kid, or leave kid out')
      const match = keyFor(runtime.state, payload.iss, header.kid as string | undefined)
      if (typeof match === 'string') throw unauthenticated(match)
      return match.key.pem
    },
    decode: { complete: true },
    verify: {
      algorithms: ['EdDSA'],
      allowedAud: [...audiences],
      clockTolerance: CLOCK_SKEW_S * 1000,
      requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti'],
      cache: true,
      cacheTTL: (MAX_TOKEN_TTL_S + CLOCK_SKEW_S) * 1000
    }
  })
  return {
    async authenticate (request) {
      checkLoaded(runtime)
      bearerToken(request)
      let claims: JwtClaims
      try {
        claims = await request.jwtVerify<JwtClaims>()
      } catch (err) {
        const e = err as { code?: string, message?: string }
        if (e.code === 'GOVEX_ERR_UNAUTHENTICATED') throw err
        throw unauthenticated('the token does not verify: ' + String(e.message))
      }
      checkClaims(claims, now())
      const member = runtime.state.members.get(claims.iss as string)
      if (member === undefined) throw unauthenticated(`iss ${JSON.stringify(claims.iss)} is not a registered member: set iss to your member id, or ask the operator to register it`)
      return { id: member.member.id, roles: member.roles, member }
    }
  }
}

export async function createAuthenticator (app: FastifyInstance, mode: AuthMode, options: AuthOptions): Promise<Authenticator> {
  return mode === 'fastify-jwt' ? await fastifyJwtAuthenticator(app, options) : leanAuthenticator(options)
}
