// Building a gateway over a test deployment, and the plan steps most tests need.
import { randomUUID } from 'node:crypto'
import { signApproval } from '@govex/core'
import type { Plan, Stores } from '@govex/core'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildGateway } from '../../src/index.js'
import type { AuthMode } from '../../src/index.js'
import { createDeployment, samplePlan, PURPOSE } from './deployment.js'
import type { Deployment, DeploymentOptions } from './deployment.js'

export interface Harness extends Deployment {
  app: FastifyInstance
}

export interface HarnessOptions extends DeploymentOptions {
  stores?: Stores
  auth?: AuthMode
  now?: () => number
  /** create, approve and activate samplePlan() (default true) */
  activate?: boolean
}

interface Teardown {
  teardown (fn: () => unknown): void
}

export async function harness (t: Teardown, options: HarnessOptions = {}): Promise<Harness> {
  const deployment = await createDeployment(options)
  let app: FastifyInstance
  try {
    app = await buildGateway({ config: deployment.config, stores: options.stores, auth: options.auth, now: options.now })
  } catch (err) {
    await deployment.cleanup()
    throw err
  }
  t.teardown(async () => {
    await app.close()
    await deployment.cleanup()
  })
  const h = { ...deployment, app }
  if (options.activate !== false) await activatePlan(h, samplePlan())
  return h
}

export function expectOk (res: LightMyRequestResponse, status = 200): unknown {
  if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`)
  return res.json()
}

/** POST the plan, approve its digest, activate it; resolves with the active state. */
export async function activatePlan (h: Harness, plan: Plan): Promise<unknown> {
  const { app, actors } = h
  expectOk(await app.inject({ method: 'POST', url: '/v1/plans', headers: actors.operator.auth(), payload: plan }), 201)
  const { digest } = expectOk(await app.inject({ method: 'GET', url: `/v1/plans/${plan.id}/digest`, headers: actors.approver.auth() })) as { digest: string }
  expectOk(await app.inject({ method: 'POST', url: `/v1/plans/${plan.id}/approve`, headers: actors.approver.auth(), payload: { signature: signApproval(digest, actors.approver.privateJwk) } }))
  return expectOk(await app.inject({ method: 'POST', url: `/v1/plans/${plan.id}/activate`, headers: actors.operator.auth() }))
}

export function envelope (overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: randomUUID(),
    purpose: PURPOSE,
    userId: 'officer-4711',
    caseRef: 'MCA-2026-000123',
    query: { idNumber: '120101199001011234' },
    ...overrides
  }
}

export async function exchange (h: Harness, resource: string, body: unknown, headers: Record<string, string> = h.actors.mca.auth()): Promise<LightMyRequestResponse> {
  return await h.app.inject({ method: 'POST', url: '/v1/exchange/' + resource, headers, payload: body as Record<string, unknown> })
}

/** The audit records of the gateway's chain, oldest first (read through the store). */
export async function auditRecords (h: Harness): Promise<Array<Record<string, unknown>>> {
  const res = await h.app.inject({ method: 'GET', url: '/v1/audit?limit=1000', headers: h.actors.auditor.auth() })
  return (expectOk(res) as { records: Array<Record<string, unknown>> }).records
}
