// What the gateway knows about one request as it goes through the hooks: its
// id (the envelope id once the body shows one), the caller, and the audit trail
// it must leave. Typed onto Fastify's request and route config here.
import { isEnvelopeId, type AdminAction, type AuditDigests, type ErrorCode, type PlanRef, type Role } from '@govex/core'
import type { FastifyContextConfig, FastifyRequest } from 'fastify'
import type { Principal } from './auth.js'
// The OpenAPI keywords (summary, tags) that route schemas carry.
import type {} from '@fastify/swagger'

/** The facts an exchange record carries; nulls where they do not apply (yet). */
export interface ExchangeTrail {
  kind: 'exchange'
  resource: string | null
  provider: string | null
  purpose: string | null
  userId: string | null
  caseRef: string | null
  plan: PlanRef | null
  grantId: string | null
  fields: string[] | null
  /** set once the body is on its way to the provider; `response` once its answer passed */
  digests: AuditDigests | null
}

export interface AdminTrail {
  kind: 'admin'
  action: AdminAction
  /** null when the request names no target (MODEL.md: fields that do not apply are null) */
  target: string | null
  /** the written document's digest, set once the write succeeded */
  digest: string | null
}

export interface RequestState {
  /** the route's URL pattern, for metrics and logs ('unknown' when no route matched) */
  route: string
  /** the route's config, read once when the route was registered */
  config: FastifyContextConfig
  /** x-request-id and the error body's requestId: the envelope id when the body has one */
  requestId: string
  /** performance.now() at arrival */
  start: number
  principal: Principal | null
  trail: ExchangeTrail | AdminTrail | null
  audited: boolean
  /** the govex code the request was answered with, for metrics and logs */
  code: ErrorCode | null
  /**
   * An authentication or role refusal of an exchange, held until its body is
   * parsed so the answer (and the audit record) carries the envelope id
   * (PROTOCOL.md: requestId is the envelope id when the body has one). It still
   * answers first, whatever else the body does wrong.
   */
  deferred: Error | null
}

/**
 * The state of a request that reached a route: set by the route's first hook
 * (hooks.ts), so present in every route hook and handler. Null only where no
 * route matched (the 404 handler, a body parsed for an unknown URL): code
 * that can run there reads `request.govex` and checks.
 */
export function stateOf (request: FastifyRequest): RequestState {
  const state = request.govex
  if (state === null) throw new Error(`no request state for ${request.method} ${request.url}: the route was registered without the gateway's hooks`)
  return state
}

/**
 * An exchange body's envelope id becomes the request id as soon as the body is
 * parsed, valid or refused: the answer, x-request-id and the audit record
 * carry it (PROTOCOL.md "Errors"). No state (no route matched) or another
 * route: nothing to adopt.
 */
export function adoptEnvelopeId (state: RequestState | null, body: unknown): void {
  if (state?.config.audit !== 'exchange') return
  const id = typeof body === 'object' && body !== null ? (body as { id?: unknown }).id : undefined
  if (isEnvelopeId(id)) state.requestId = id
}

/** Which requests a route audits: every exchange, or an admin action. */
export type AuditKind = 'exchange' | AdminAction

declare module 'fastify' {
  interface FastifyRequest {
    govex: RequestState | null
  }
  interface FastifyContextConfig {
    /** the route needs no token (public portal, operations) */
    public?: boolean
    /** roles allowed to call the route; absent = any authenticated member */
    roles?: readonly Role[]
    /** a URL parameter naming an agency that may also call the route on itself (besides `roles`) */
    ownAgencyParam?: string
    audit?: AuditKind
    /** how the audit target is read from the request */
    auditTarget?: string
  }
}
