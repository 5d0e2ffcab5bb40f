// The request lifecycle every route shares: request state at arrival, the
// x-request-id header, the error body of PROTOCOL.md (audited when the caller
// was authenticated), one log line and the metrics per request, and the
// audit fallback for anything answered outside a route handler.
import { randomUUID } from 'node:crypto'
import type { ErrorCode } from '@govex/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errorBody, mapError } from './errors.js'
import type { MappedError } from './errors.js'
import type { GatewayContext } from './context.js'
import { outcomeOf } from './metrics.js'
import './request-state.js'

/** The govex code an answer carried, kept on the request for metrics and logs. */
function codeOf (request: FastifyRequest): ErrorCode | null {
  return request.govex?.code ?? null
}

export function installHooks (app: FastifyInstance, ctx: GatewayContext): void {
  app.decorateRequest('govex', null as never)

  app.addHook('onRequest', (request, _reply, done) => {
    request.govex = { requestId: request.id, start: performance.now(), principal: null, trail: null, audited: false, code: null }
    done()
  })

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.govex?.requestId ?? request.id)
    done(null, payload)
  })

  app.addHook('onResponse', (request, reply, done) => {
    const state = request.govex
    const status = reply.statusCode
    const code = codeOf(request)
    const route = request.routeOptions.url ?? 'unknown'
    ctx.metrics.requests.inc({ route, method: request.method, outcome: outcomeOf(status), code: code ?? '' })
    const ms = Math.round((performance.now() - (state?.start ?? 0)) * 1000) / 1000
    request.log.info({ requestId: state?.requestId ?? request.id, method: request.method, route, status, code, member: state?.principal?.id ?? null, ms }, 'request')
    // Anything answered without going through a handler or the error handler still owes its record.
    if (state !== null && state.trail !== null && state.principal !== null && !state.audited) {
      ctx.audit.record(request, status, code).catch(err => { request.log.error({ err }, 'could not append the audit record of an answered request') })
    }
    done()
  })

  app.setErrorHandler(async (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = mapError(err, ctx.config.limits)
    logError(request, err, mapped)
    const state = request.govex
    if (state !== null) {
      state.code = mapped.code
      try {
        await ctx.audit.record(request, mapped.status, mapped.code)
      } catch (auditErr) {
        request.log.error({ err: auditErr }, 'could not append the audit record of a refused request')
      }
    }
    const retryAfter = (err as { retryAfterS?: unknown }).retryAfterS
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
    reply.code(mapped.status).type('application/json; charset=utf-8')
    return errorBody(mapped, state?.requestId ?? request.id)
  })

  app.setNotFoundHandler((request, reply) => {
    const mapped: MappedError = {
      status: 404,
      code: 'GOVEX_ERR_NOT_FOUND',
      message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}: see GET /docs for the routes`,
      problems: undefined,
      internal: false
    }
    if (request.govex !== null) request.govex.code = mapped.code
    reply.code(404).type('application/json; charset=utf-8').send(errorBody(mapped, request.govex?.requestId ?? request.id))
  })
}

function logError (request: FastifyRequest, err: unknown, mapped: MappedError): void {
  if (mapped.internal) {
    request.log.error({ err }, 'request failed inside the gateway')
  } else if (mapped.code === 'GOVEX_ERR_UNAUTHENTICATED') {
    request.log.warn({ code: mapped.code, reason: mapped.message, ip: request.ip }, 'authentication failed')
  } else if (mapped.status >= 500) {
    const upstreamCode = (err as { upstreamCode?: unknown }).upstreamCode
    request.log.warn({ code: mapped.code, reason: mapped.message, upstreamCode }, 'request failed')
  }
}

/** Errors Fastify meets before routing (bad URL encoding, over-long parameters), in the same shape. */
export function frameworkErrors (err: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply): void {
  const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? 'a URL parameter is longer than any legal id'
    : 'the URL is malformed; percent-encode it correctly'
  const mapped: MappedError = { status: 400, code: 'GOVEX_ERR_BAD_REQUEST', message, problems: undefined, internal: false }
  const requestId = request.id ?? randomUUID()
  reply.code(400).header('x-request-id', requestId).type('application/json; charset=utf-8').send(errorBody(mapped, requestId))
}
