// The request lifecycle every route shares: request state at arrival, the
// x-request-id header, the error body of PROTOCOL.md (audited when the caller
// was authenticated), one log line and the metrics per request, and the
// audit fallback for anything answered outside a route handler.
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { ErrorCode } from '@govex/core'
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { errorBody, httpError, mapError } from './errors.js'
import type { MappedError } from './errors.js'
import type { GatewayContext } from './context.js'
import './request-state.js'

/** The id every log line of a request carries: the envelope id once known. */
export function requestIdOf (request: FastifyRequest): string {
  return request.govex?.requestId ?? request.id
}

/** Whether the request's logger writes info lines: skip building a line nobody reads. */
function logsInfo (request: FastifyRequest): boolean {
  const log = request.log as { isLevelEnabled?: (level: string) => boolean }
  return typeof log.isLevelEnabled === 'function' ? log.isLevelEnabled('info') : true
}

/** The govex code an answer carried, kept on the request for metrics and logs. */
function codeOf (request: FastifyRequest): ErrorCode | null {
  return request.govex?.code ?? null
}

function asArray<T> (value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

/**
 * Installs the shared hooks. Each route gets its own first onRequest hook that
 * knows the route's URL and config (read once here: `request.routeOptions`
 * builds a new object on every access), and /v1 routes the member hook next.
 */
export function installHooks (app: FastifyInstance, ctx: GatewayContext, member: onRequestHookHandler): void {
  app.decorateRequest('govex', null as never)

  // Set once the gateway stops (app.close()): a request that still arrives, on a
  // connection busy with an in-flight exchange, is refused in the shape of every
  // other error (Fastify's own closing answer has no code and no request id).
  let stopping = false
  app.addHook('preClose', done => {
    stopping = true
    done()
  })

  app.addHook('onRoute', route => {
    const url = route.url ?? route.path ?? 'unknown'
    const config = (route.config ?? {}) as FastifyContextConfig
    const start: onRequestHookHandler = function startRequest (request, _reply, done) {
      request.govex = { requestId: request.id, start: performance.now(), route: url, config, principal: null, trail: null, audited: false, code: null, deferred: null }
      if (stopping) {
        done(httpError('GOVEX_ERR_UNAVAILABLE', 'the gateway is stopping and takes no new requests: send the request again on a new connection (another gateway of the pool, or this one once restarted)'))
        return
      }
      done()
    }
    const own = asArray(route.onRequest)
    route.onRequest = url.startsWith('/v1/') && config.public !== true ? [start, member, ...own] : [start, ...own]
  })

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.govex?.requestId ?? request.id)
    done(null, payload)
  })

  app.addHook('onResponse', (request, reply, done) => {
    const state = request.govex
    const status = reply.statusCode
    const code = codeOf(request)
    const route = state?.route ?? 'unknown'
    ctx.metrics.countRequest(route, request.method, status, code)
    if (logsInfo(request)) {
      const ms = Math.round((performance.now() - (state?.start ?? 0)) * 1000) / 1000
      request.log.info({ reqId: requestIdOf(request), method: request.method, route, status, code, member: state?.principal?.id ?? null, ms }, 'request')
    }
    // Anything answered without going through a handler or the error handler still owes its record.
    if (state !== null && state.trail !== null && state.principal !== null && !state.audited) {
      ctx.audit.record(request, status, code).catch(err => { request.log.error({ reqId: requestIdOf(request), err }, 'could not append the audit record of an answered request') })
    }
    done()
  })

  app.setErrorHandler(async (thrown: unknown, request: FastifyRequest, reply: FastifyReply) => {
    // a held authentication or role refusal answers before a body problem (415, 413, bad JSON)
    const err = request.govex?.deferred ?? thrown
    const mapped = mapError(err, ctx.config.limits)
    logError(request, err, mapped)
    const state = request.govex
    if (state !== null) {
      state.code = mapped.code
      try {
        await ctx.audit.record(request, mapped.status, mapped.code)
      } catch (auditErr) {
        request.log.error({ reqId: requestIdOf(request), err: auditErr }, 'could not append the audit record of a refused request')
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
    request.log.error({ reqId: requestIdOf(request), err }, 'request failed inside the gateway')
  } else if (mapped.code === 'GOVEX_ERR_UNAUTHENTICATED') {
    request.log.warn({ reqId: requestIdOf(request), code: mapped.code, reason: mapped.message, ip: request.ip }, 'authentication failed')
  } else if (mapped.status >= 500) {
    // One line a failed request, with the reason the answer may not give (a
    // store's words, why an endpoint was refused); never the request's token or body.
    const upstreamCode = (err as { upstreamCode?: unknown }).upstreamCode
    const store = mapped.code === 'GOVEX_ERR_UNAVAILABLE' && mapped.detail !== undefined
    request.log.warn({ reqId: requestIdOf(request), code: mapped.code, reason: mapped.detail ?? mapped.message, upstreamCode }, store ? 'request failed: the stores do not answer or refuse this gateway' : 'request failed')
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

/**
 * Errors Node's HTTP parser meets before Fastify sees a request — headers
 * over 16 KiB, malformed HTTP, a request too slow to arrive — in the same JSON
 * shape as every other error (Fastify's default answers without a code).
 */
export function clientErrors (this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  // a reset connection has nobody to answer
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const message = err.code === 'HPE_HEADER_OVERFLOW'
    ? 'the request headers are larger than the gateway accepts (16 KiB); send fewer or shorter headers'
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 'the request did not arrive in time; send it again on a new connection'
      : 'the request is not valid HTTP/1.1'
  const requestId = randomUUID()
  this.log.debug({ reqId: requestId, code: err.code }, 'client error before routing')
  if (socket.writable) {
    const body = JSON.stringify(errorBody({ status: 400, code: 'GOVEX_ERR_BAD_REQUEST', message, problems: undefined, internal: false }, requestId))
    socket.write(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}
