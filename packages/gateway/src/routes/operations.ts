// Operations (PROTOCOL.md "Operations"): liveness, readiness (stores answer and
// the plan state is loaded, within 2 s), and Prometheus metrics.
import { Type } from '@sinclair/typebox'
import { PlanRef } from '@govex/core'
import type { FastifyInstance } from 'fastify'
import type { RouteOptions } from '../context.js'
import { httpError } from '../errors.js'
import { NO_TOKEN, answerIn, errorResponses } from '../http-schemas.js'
import { reloading } from '../access.js'

export const READY_TIMEOUT_MS = 2000

/** GET /readyz: ready, with the active plan (null when none is active: still ready). */
const Ready = Type.Object({ status: Type.Literal('ready'), plan: Type.Union([PlanRef, Type.Null()]) }, { description: 'ready, with the active plan (null when none is)' })

const Alive = Type.Object({ status: Type.Literal('ok') }, { description: 'the process is up' })

/** Prometheus text exposition format. */
const Metrics = answerIn('Prometheus metrics (text exposition format 0.0.4)', { 'text/plain': Type.String() })

async function within<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

export async function operationRoutes (app: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const { stores, runtime, metrics } = ctx

  app.get('/healthz', { config: { public: true }, schema: { summary: 'The process is up', tags: ['operations'], ...NO_TOKEN, response: { 200: Alive } } }, async () => ({ status: 'ok' }))

  // the last reason logged, digits aside ("for 812 ms"): a load balancer probing every few seconds logs each reason once
  let told: string | null = null
  app.get('/readyz', { config: { public: true }, schema: { summary: 'The stores answer and the plan state is loaded (else 503)', tags: ['operations'], ...NO_TOKEN, response: { 200: Ready, ...errorResponses() } } }, async request => {
    try {
      await within(stores.ping(), READY_TIMEOUT_MS)
    } catch (err) {
      // Why is for the operator, in the log: it may name Redis users, keys, hosts or
      // paths, and /readyz answers anyone who asks.
      const reason = (err as Error).message.replace(/\d+/g, '#')
      if (reason !== told) {
        told = reason
        request.log.warn({ err }, 'readyz: the stores do not answer or refuse this gateway; answering 503')
      }
      throw httpError('GOVEX_ERR_UNAVAILABLE', 'the stores (shared state or data folder) do not answer or refuse this gateway, so it refuses exchanges until they do; retry shortly (the operator should see the gateway log)')
    }
    told = null
    if (!runtime.loaded) throw httpError('GOVEX_ERR_UNAVAILABLE', 'members, catalog and plan state are not loaded yet; retry shortly')
    // after a reconnect exchanges are refused until the reload is in: so is readiness, so a load balancer routes elsewhere
    if (!runtime.current) throw reloading()
    const plan = runtime.state.plan
    return { status: 'ready', plan: plan === null ? null : plan.plan }
  })

  app.get('/metrics', { config: { public: true }, schema: { summary: 'Prometheus metrics', tags: ['operations'], ...NO_TOKEN, response: { 200: Metrics } } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType)
    return await metrics.registry.metrics()
  })
}
