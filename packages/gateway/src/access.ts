// Authentication and role checks for /v1 routes (PROTOCOL.md "Authentication"):
// a route's config lists the roles that may call it; `ownAgencyParam` lets an
// agency act on its own directory or disclosure catalog, and on no other's.
// The audit trail starts here, right after authentication, so that every
// refusal from this point on is audited.
import { parseResourceId } from '@govex/core'
import type { FastifyRequest, onRequestHookHandler } from 'fastify'
import type { Authenticator, Principal } from './auth.js'
import { httpError } from './errors.js'
import { stateOf, type AdminTrail, type ExchangeTrail } from './request-state.js'

function exchangeTrail (request: FastifyRequest): ExchangeTrail {
  const resourceId = (request.params as { resourceId?: unknown }).resourceId
  const parts = parseResourceId(resourceId)
  return {
    kind: 'exchange',
    resource: parts === null ? null : resourceId as string,
    provider: parts === null ? null : parts.provider,
    purpose: null,
    userId: null,
    caseRef: null,
    plan: null,
    grantId: null,
    fields: null,
    digests: null
  }
}

function adminTarget (request: FastifyRequest, param: string | undefined): string | null {
  if (param === undefined) return null
  const value = (request.params as Record<string, unknown>)[param]
  return typeof value === 'string' && value !== '' ? value.slice(0, 256) : null
}

function allowed (principal: Principal, request: FastifyRequest): boolean {
  const { roles, ownAgencyParam } = stateOf(request).config
  if (roles === undefined) return true
  for (const role of roles) if (principal.roles.has(role)) return true
  if (ownAgencyParam !== undefined && principal.roles.has('agency')) {
    return (request.params as Record<string, unknown>)[ownAgencyParam] === principal.id
  }
  return false
}

function refusal (principal: Principal, request: FastifyRequest): string {
  const { config, route: pattern } = stateOf(request)
  const { roles, ownAgencyParam } = config
  const needed = (roles ?? []).join(' or ')
  const route = `${request.method} ${pattern}`
  if (ownAgencyParam !== undefined) {
    return `${principal.id} may not call ${route} for ${String((request.params as Record<string, unknown>)[ownAgencyParam])}: an agency acts only on its own, otherwise the ${needed} role is needed`
  }
  return `${route} needs the ${needed} role; ${principal.id} has ${[...principal.roles].join(', ')}`
}

/** The answer while members, catalog and plans are reloaded after the shared store came back (Runtime.current false). */
export function reloading (): Error {
  return httpError('GOVEX_ERR_UNAVAILABLE', 'this gateway is reloading members, catalog and plans after its connection to the shared store came back; retry shortly')
}

/**
 * The authentication and role hook of a /v1 route. While the view is being
 * reloaded (`current` false) every call answers 503 and nothing is decided on
 * that view — a member, key or role added elsewhere may be what it lacks, so
 * a token it cannot verify answers 503, not 401. A caller it does know is
 * still authenticated first, so an exchange's 503 is audited as every
 * authenticated exchange is (the exchange route checks again before
 * deciding, for a reload that comes in between).
 */
export function memberHook (authenticator: Authenticator, current: () => boolean): onRequestHookHandler {
  return function requireMember (request, _reply, next) {
    // an exchange holds its refusal until the body shows the envelope id (see RequestState.deferred)
    const done = (err?: Error): void => {
      const state = stateOf(request)
      if (err !== undefined && state.config.audit === 'exchange') {
        state.deferred = err
        next()
      } else if (err !== undefined) next(err)
      else next()
    }
    const settle = (principal: Principal): void => {
      const state = stateOf(request)
      state.principal = principal
      const { audit, auditTarget } = state.config
      if (audit === 'exchange') state.trail = exchangeTrail(request)
      else if (audit !== undefined) state.trail = { kind: 'admin', action: audit, target: adminTarget(request, auditTarget), digest: null } satisfies AdminTrail
      // authenticated on the stale view, so the 503 is audited like any other answer
      if (!current()) {
        done(reloading())
        return
      }
      if (!allowed(principal, request)) {
        done(httpError('GOVEX_ERR_FORBIDDEN_ROLE', refusal(principal, request)))
        return
      }
      done()
    }
    const fail = (err: Error): void => {
      done((err as { code?: unknown }).code === 'GOVEX_ERR_UNAUTHENTICATED' && !current() ? reloading() : err)
    }
    let result: Principal | Promise<Principal>
    try {
      result = authenticator.authenticate(request)
    } catch (err) {
      fail(err as Error)
      return
    }
    if (result instanceof Promise) result.then(settle, fail)
    else settle(result)
  }
}
