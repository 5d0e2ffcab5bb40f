// POST /v1/exchange/{resourceId} (PROTOCOL.md "Exchange"), in the order the
// protocol gives: authenticate → role → body schema (hooks and validation) →
// authorize() → replay guard → quota → forward → minimise → audit → answer.
// Only a request that passes every check before the forward consumes its
// envelope id and its quota.
import { randomUUID } from 'node:crypto'
import { MAX_JSON_DEPTH, RequestEnvelope, ResponseEnvelope, authorize, digestOf, nestedBeyond, quotaKey, sha256 } from '@govex/core'
import type { AuditDigests, ErrorCode } from '@govex/core'
import type { FastifyInstance } from 'fastify'
import type { RouteOptions } from '../context.js'
import { httpError } from '../errors.js'
import { ResourceParams, errorResponses } from '../http-schemas.js'
import { minimise, providerData } from '../minimise.js'
import { PROVIDER_TOKEN_TTL_S } from '../gateway-key.js'
import { adoptEnvelopeId, stateOf, type ExchangeTrail } from '../request-state.js'
import { reloading } from '../access.js'

export async function exchangeRoutes (app: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const { config, stores, runtime, forwarder, key, metrics, audit, now } = ctx
  const { replayWindowS, upstreamTimeoutMs, upstreamBodyBytes } = config.limits

  app.post<{ Params: { resourceId: string }, Body: RequestEnvelope }>('/v1/exchange/:resourceId', {
    config: { roles: ['agency'], audit: 'exchange' },
    schema: {
      summary: 'Ask a provider for data, as the active sharing plan allows',
      tags: ['exchange'],
      params: ResourceParams,
      body: RequestEnvelope,
      response: { 200: ResponseEnvelope, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429, 502, 504) }
    },
    // The envelope id becomes the request id as soon as the body is parsed, valid or not.
    preValidation: (request, _reply, done) => {
      const state = stateOf(request)
      adoptEnvelopeId(state, request.body)
      const deferred = state.deferred
      if (deferred !== null) done(deferred)
      else done()
    }
  }, async (request, reply) => {
    const envelope = request.body
    const requestState = stateOf(request)
    const principal = requestState.principal
    if (principal === null) throw httpError('GOVEX_ERR_UNAUTHENTICATED', 'no authenticated caller')
    const trail = requestState.trail as ExchangeTrail
    trail.purpose = envelope.purpose
    trail.userId = envelope.userId ?? null
    trail.caseRef = envelope.caseRef ?? null
    trail.fields = envelope.fields ?? null

    // Fail closed on a view that may miss changes (the stores reconnected and the
    // reload is not in yet): no decision on it, a denial no more than an allowance.
    // Checked in the same turn as the state read below.
    if (!runtime.current) throw reloading()
    const at = now()
    const state = runtime.state
    const resourceId = request.params.resourceId
    const decision = authorize(state.plan, state.catalog, {
      consumer: principal.id,
      resourceId,
      zone: config.zone,
      purpose: envelope.purpose,
      fields: envelope.fields,
      userId: envelope.userId,
      caseRef: envelope.caseRef,
      query: envelope.query,
      now: at
    })
    if (!decision.allow) {
      if (decision.plan !== undefined) trail.plan = decision.plan
      if (decision.grant !== undefined) trail.grantId = decision.grant.id
      if (decision.entry !== undefined) trail.provider = decision.entry.provider
      throw httpError(decision.code, decision.message, decision.problems)
    }
    const { entry, grant, fields, plan } = decision
    const provider = entry.provider
    trail.plan = plan
    trail.grantId = grant.id
    trail.provider = provider
    trail.fields = fields

    // Built before the admission. It cannot throw: the body parser refused any body
    // nested beyond MAX_JSON_DEPTH (far within JSON.stringify's reach) or holding a
    // value JSON cannot carry, and parsed JSON has no cycle, BigInt or toJSON function.
    const body = Buffer.from(JSON.stringify({
      requestId: envelope.id,
      consumer: principal.id,
      resource: resourceId,
      purpose: envelope.purpose,
      userId: envelope.userId ?? null,
      caseRef: envelope.caseRef ?? null,
      fields,
      query: envelope.query ?? {}
    }), 'utf8')

    // The envelope id and the quota are spent together or not at all (Stores.admit),
    // one id in any spelling (UUIDs are case-insensitive).
    const admission = await stores.admit({
      id: envelope.id,
      windowS: replayWindowS,
      quota: decision.quota === null ? undefined : { key: quotaKey(plan.id, grant.id), limits: decision.quota, nowMs: at }
    })
    if (!admission.ok) {
      if (admission.reason === 'replay') {
        throw httpError('GOVEX_ERR_REPLAY', `envelope id ${envelope.id} was already used by an allowed exchange: that exchange was processed; send a new id for a new request`)
      }
      const err = httpError('GOVEX_ERR_QUOTA', `grant ${grant.id} has spent its quota per ${admission.window}; try again in ${admission.retryAfterS} s`)
      ;(err as Error & { retryAfterS?: number }).retryAfterS = admission.retryAfterS
      throw err
    }

    const requestDigest = sha256(body)
    const iat = Math.floor(at / 1000)
    const token = key.sign({
      iss: config.gatewayId,
      aud: provider,
      iat,
      exp: iat + PROVIDER_TOKEN_TTL_S,
      jti: envelope.id,
      resource: resourceId,
      consumer: principal.id,
      fields,
      digest: requestDigest
    })
    const timeoutMs = entry.resource.endpoint.timeoutMs ?? upstreamTimeoutMs
    // Once the body is on its way a 502/504 is recorded with the request digest (the
    // provider may hold these bytes), the response digest filled in only for a 200.
    const digests: AuditDigests = { request: requestDigest, response: null }
    trail.digests = digests
    const started = performance.now()
    let upstreamOutcome: ErrorCode | 'ok' = 'ok'
    let data
    try {
      const answer = await forwarder.forward(provider, entry.resource.endpoint.url, body, token, timeoutMs, upstreamBodyBytes)
      data = providerData(provider, answer)
    } catch (err) {
      upstreamOutcome = (err as { code?: ErrorCode }).code ?? 'GOVEX_ERR_UPSTREAM'
      // never written to the provider (its endpoint URL refused, connection refused, still queued at the deadline): nothing was forwarded
      if ((err as { requestSent?: boolean }).requestSent === false) trail.digests = null
      throw err
    } finally {
      metrics.upstream.observe({ provider, outcome: upstreamOutcome === 'ok' ? 'ok' : upstreamOutcome === 'GOVEX_ERR_UPSTREAM_TIMEOUT' ? 'timeout' : 'error' }, (performance.now() - started) / 1000)
    }
    const minimised = minimise(data, fields)
    // The answer `{ "data": … }` is level 1, as a request body is: the 200 envelope holds data at the same level.
    if (nestedBeyond(minimised, MAX_JSON_DEPTH - 1) !== undefined) {
      throw httpError('GOVEX_ERR_UPSTREAM', `${provider} did not answer as a govex provider (its data nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays, its answer being the first); its agency has been told in the gateway log`)
    }
    let dataJson: string
    try {
      const responseDigest = digestOf(minimised)
      dataJson = JSON.stringify(minimised)
      digests.response = responseDigest
    } catch {
      // JSON.parse takes 1e400 (Infinity) and "\ud800", canonical JSON neither: the provider's fault, a 502 — found before the record is sealed.
      throw httpError('GOVEX_ERR_UPSTREAM', `${provider} did not answer as a govex provider (its data holds a number too large for JSON or a lone UTF-16 surrogate); its agency has been told in the gateway log`)
    }
    const record = await audit.record(request, 200, null)
    reply.type('application/json; charset=utf-8')
    // Nothing that can fail after the record says 200: the data is spliced in as already serialised.
    const head = JSON.stringify({
      id: randomUUID(),
      requestId: envelope.id,
      resource: resourceId,
      consumer: principal.id,
      provider,
      plan,
      grantId: grant.id,
      fields
    })
    return head.slice(0, -1) + ',"data":' + dataJson + ',"digests":' + JSON.stringify(digests) + ',"auditSeq":' + String(record?.seq ?? null) + '}'
  })
}
