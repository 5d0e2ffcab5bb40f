// Authentication and role checks for /v1 routes (PROTOCOL.md "Authentication"):
// a route's config lists the roles that may call it; `ownAgencyParam` lets an
// agency act on its own directory or disclosure catalog, and on no other's.
// The audit trail starts here, right after authentication, so that every
// refusal from this point on is audited.
import { parseResourceId } from '@govex/core'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Authenticator, Principal } from './auth.js'
import { httpError } from './errors.js'
import type { AdminTrail, ExchangeTrail } from './request-state.js'

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

function adminTarget (request: FastifyRequest, param: string | undefined): string {
  if (param === undefined) return ''
  const value = (request.params as Record<string, unknown>)[param]
  return typeof value === 'string' ? value.slice(0, 256) : ''
}

function allowed (principal: Principal, request: FastifyRequest): boolean {
  const { roles, ownAgencyParam } = request.routeOptions.config
  if (roles === undefined) return true
  for (const role of roles) if (principal.roles.has(role)) return true
  if (ownAgencyParam !== undefined && principal.roles.has('agency')) {
    return (request.params as Record<string, unknown>)[ownAgencyParam] === principal.id
  }
  return false
}

function refusal (principal: Principal, request: FastifyRequest): string {
  const { roles, ownAgencyParam } = request.routeOptions.config
  const needed = (roles ?? []).join(' or ')
  const route = `${request.method} ${request.routeOptions.url ?? ''}`
  if (ownAgencyParam !== undefined) {
    return `${principal.id} may not call ${route} for ${String((request.params as Record<string, unknown>)[ownAgencyParam])}: an agency acts only on its own, otherwise the ${needed} role is needed`
  }
  return `${route} needs the ${needed} role; ${principal.id} has ${[...principal.roles].join(', ')}`
}

/** Adds the authentication and role hook to every route of `scope`. */
export function requireMember (scope: FastifyInstance, authenticator: Authenticator): void {
  scope.addHook('onRequest', (request, _reply, done) => {
    const settle = (principal: Principal): void => {
      const state = request.govex
      state.principal = principal
      const { audit, auditTarget } = request.routeOptions.config
      if (audit === 'exchange') state.trail = exchangeTrail(request)
      else if (audit !== undefined) state.trail = { kind: 'admin', action: audit, target: adminTarget(request, auditTarget), digest: null } satisfies AdminTrail
      if (!allowed(principal, request)) {
        done(httpError('GOVEX_ERR_FORBIDDEN_ROLE', refusal(principal, request)))
        return
      }
      done()
    }
    let result: Principal | Promise<Principal>
    try {
      result = authenticator.authenticate(request)
    } catch (err) {
      done(err as Error)
      return
    }
    if (result instanceof Promise) result.then(settle, (err: Error) => { done(err) })
    else settle(result)
  })
}
