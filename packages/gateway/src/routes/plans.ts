// Sharing plans (PROTOCOL.md "Members, directories, plans"): create a draft
// (operator), read (operator, approver, auditor), digest (operator, approver),
// approve (approver; the latest draft), activate (operator; the latest approved
// version, superseding the active plan atomically), revoke (operator). Every
// step is a core lifecycle function; the store applies it compare-and-set.
import { ApproveBody, Plan, activatePlan, approvePlan, checkPlanRules, createPlanStateInTurns, planStateJson, revokePlan } from '@govex/core'
import type { PlanState as PlanStateType, PlanStatus } from '@govex/core'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Principal } from '../auth.js'
import type { RouteOptions } from '../context.js'
import { accepted } from '../documents.js'
import { httpError } from '../errors.js'
import { DigestAnswer, PlanAnswer, PlanList, PlanParams, VersionQuery, errorResponses, shared } from '../http-schemas.js'
import { stateOf, type AdminTrail } from '../request-state.js'

/** The first `max` UTF-16 units, never ending on half a surrogate pair (an audit record cannot hold one). */
function wellFormedSlice (text: string, max: number): string {
  const cut = text.slice(0, max)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}

/** grants above which creating a plan lets other requests run between its steps */
const LARGE_PLAN = 1000

const PLAN = shared(PlanAnswer, 'the plan version: the document plus status, digest, approvals, activatedAt')

type PlanRequest = FastifyRequest<{ Params: { id: string }, Querystring: { version?: string } }>

export async function planRoutes (app: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const { stores, runtime, audit, now } = ctx
  const readers = ['operator', 'approver', 'auditor'] as const

  function iso (): string {
    return new Date(now()).toISOString()
  }

  async function latestOf (id: string): Promise<PlanStateType> {
    const latest = await stores.plans.get(id)
    if (latest === undefined) throw httpError('GOVEX_ERR_NOT_FOUND', `no plan ${id}: see GET /v1/plans`)
    return latest
  }

  async function planAt (request: PlanRequest): Promise<PlanStateType> {
    const { id } = request.params
    const version = request.query.version === undefined ? undefined : Number(request.query.version)
    const state = await stores.plans.get(id, version)
    if (state === undefined) throw httpError('GOVEX_ERR_NOT_FOUND', version === undefined ? `no plan ${id}: see GET /v1/plans` : `plan ${id} has no version ${version}: see GET /v1/plans for its versions`)
    return state
  }

  /**
   * The state as the answer's body. A plan can be tens of MB: the file store
   * has just serialised this state to write it, and planStateJson() hands that
   * text back instead of serialising it a second time.
   */
  function answer (reply: FastifyReply, state: PlanStateType): Buffer {
    reply.type('application/json; charset=utf-8')
    return planStateJson(state)
  }

  /** Records the lifecycle step, makes it live, audits it. */
  async function stepped (request: FastifyRequest, reply: FastifyReply, next: PlanStateType, expected: PlanStatus, status = 200): Promise<Buffer> {
    const trail = stateOf(request).trail as AdminTrail
    trail.target = `${next.id}@${next.version}`
    await stores.plans.update(next, expected)
    trail.digest = next.digest
    await runtime.refresh('plan')
    await audit.record(request, status, null)
    return answer(reply, next)
  }

  app.post<{ Body: Plan }>('/v1/plans', {
    config: { roles: ['operator'], audit: 'plan.create' },
    schema: { summary: 'Create a draft plan (Art. 12)', tags: ['plans'], body: Plan, response: { 201: shared(PlanAnswer, 'the draft as stored: the document plus status, digest, approvals, activatedAt'), ...errorResponses(400, 401, 403, 409, 413, 415, 422) } },
    preValidation: (request, _reply, done) => {
      const body = request.body as { id?: unknown, version?: unknown } | undefined
      if (typeof body?.id === 'string') {
        (stateOf(request).trail as AdminTrail).target = wellFormedSlice(body.id, 128) + (Number.isSafeInteger(body.version) ? '@' + String(body.version) : '')
      }
      done()
    }
  }, async (request, reply) => {
    // A body over 1 MiB (~8,000 grants) was parsed, scanned and checked against the
    // schema in turns of their own (app.ts). Above 1,000 grants the rules, the digest
    // and the store's serialisation (~0.1-0.25 s each at 100,000 grants) run in turns
    // of their own too, and the digest and the serialisation give one every 10 ms.
    const large = request.body.grants.length > LARGE_PLAN
    if (large) await nextTurn()
    const state = runtime.state
    // The route's body schema is Plan: Fastify has checked it, so only the rules are left.
    const plan = accepted('plan', checkPlanRules(request.body, { catalog: state.catalog, members: state.memberDocs }))
    if (large) await nextTurn()
    const draft = await createPlanStateInTurns(plan)
    if (large) await nextTurn()
    const trail = stateOf(request).trail as AdminTrail
    trail.target = `${draft.id}@${draft.version}`
    await stores.plans.create(draft)
    trail.digest = draft.digest
    await audit.record(request, 201, null)
    reply.code(201)
    return answer(reply, draft)
  })

  app.get('/v1/plans', {
    config: { roles: readers },
    schema: { summary: 'Every version of every plan, with status and approvals', tags: ['plans'], response: { 200: PlanList, ...errorResponses(401, 403) } }
  }, async () => ({ plans: await stores.plans.list() }))

  app.get<{ Params: { id: string }, Querystring: { version?: string } }>('/v1/plans/:id', {
    config: { roles: readers },
    schema: { summary: 'A plan\'s latest version, or ?version=N', tags: ['plans'], params: PlanParams, querystring: VersionQuery, response: { 200: PLAN, ...errorResponses(400, 401, 403, 404) } }
  }, async (request, reply) => answer(reply, await planAt(request)))

  app.get<{ Params: { id: string }, Querystring: { version?: string } }>('/v1/plans/:id/digest', {
    config: { roles: ['operator', 'approver'] },
    schema: { summary: 'The sha256 of the plan\'s canonical JSON (RFC 8785): what an approver signs', tags: ['plans'], params: PlanParams, querystring: VersionQuery, response: { 200: DigestAnswer, ...errorResponses(400, 401, 403, 404) } }
  }, async request => ({ digest: (await planAt(request)).digest }))

  app.post<{ Params: { id: string }, Querystring: { version?: string }, Body: ApproveBody }>('/v1/plans/:id/approve', {
    config: { roles: ['approver'], audit: 'plan.approve', auditTarget: 'id' },
    schema: { summary: 'Approve the latest draft (or ?version=N, which must be a draft): body { signature } = detached JWS over the digest', tags: ['plans'], params: PlanParams, querystring: VersionQuery, body: ApproveBody, response: { 200: PLAN, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422) } }
  }, async (request, reply) => {
    let draft: PlanStateType | undefined
    if (request.query.version !== undefined) {
      // the lifecycle refuses (409) any status but draft, and says why
      draft = await planAt(request)
    } else {
      draft = await stores.plans.latestWith(request.params.id, 'draft')
      if (draft === undefined) {
        const latest = await latestOf(request.params.id)
        throw httpError('GOVEX_ERR_CONFLICT', `plan ${request.params.id} has no draft to approve (latest version ${latest.version} is ${latest.status}); submit a new version as a draft`)
      }
    }
    const trail = stateOf(request).trail as AdminTrail
    trail.target = `${draft.id}@${draft.version}`
    const principal = stateOf(request).principal as Principal
    let approved: PlanStateType
    try {
      approved = approvePlan(draft, { approver: principal.member.member, signature: request.body.signature, at: iso() })
    } catch (err) {
      if ((err as { code?: string }).code === 'GOVEX_ERR_BAD_SIGNATURE') {
        throw httpError('GOVEX_ERR_BAD_SIGNATURE', (err as Error).message, [{ code: 'bad-signature', path: '/signature', message: (err as Error).message }])
      }
      throw err
    }
    return await stepped(request, reply, approved, 'draft')
  })

  app.post<{ Params: { id: string }, Querystring: { version?: string } }>('/v1/plans/:id/activate', {
    config: { roles: ['operator'], audit: 'plan.activate', auditTarget: 'id' },
    schema: { summary: 'Activate the latest approved version (or ?version=N, which must be approved); the active plan becomes superseded', tags: ['plans'], params: PlanParams, querystring: VersionQuery, response: { 200: PLAN, ...errorResponses(400, 401, 403, 404, 409) } }
  }, async (request, reply) => {
    if (request.query.version !== undefined) {
      const chosen = await planAt(request)
      ;(stateOf(request).trail as AdminTrail).target = `${chosen.id}@${chosen.version}`
      // the lifecycle refuses (409) any status but approved, and says why
      return await stepped(request, reply, activatePlan(chosen, iso()), 'approved')
    }
    const approved = await stores.plans.latestWith(request.params.id, 'approved')
    if (approved === undefined) {
      const latest = await latestOf(request.params.id)
      ;(stateOf(request).trail as AdminTrail).target = `${latest.id}@${latest.version}`
      // Let the lifecycle say why the latest version cannot become active.
      activatePlan(latest, iso())
      throw httpError('GOVEX_ERR_CONFLICT', `plan ${request.params.id} has no approved version to activate: approve a draft first (POST /v1/plans/${request.params.id}/approve)`)
    }
    ;(stateOf(request).trail as AdminTrail).target = `${approved.id}@${approved.version}`
    return await stepped(request, reply, activatePlan(approved, iso()), 'approved')
  })

  app.post<{ Params: { id: string }, Querystring: { version?: string } }>('/v1/plans/:id/revoke', {
    config: { roles: ['operator'], audit: 'plan.revoke', auditTarget: 'id' },
    schema: { summary: 'Revoke the plan (?version=N, else its active or latest approved version): exchanges under it stop at once', tags: ['plans'], params: PlanParams, querystring: VersionQuery, response: { 200: PLAN, ...errorResponses(400, 401, 403, 404, 409) } }
  }, async (request, reply) => {
    let target: PlanStateType
    if (request.query.version !== undefined) {
      target = await planAt(request)
    } else {
      const { id } = request.params
      const active = await stores.plans.getActive()
      target = (active?.id === id ? active : undefined) ?? await stores.plans.latestWith(id, 'approved') ?? await latestOf(id)
    }
    ;(stateOf(request).trail as AdminTrail).target = `${target.id}@${target.version}`
    return await stepped(request, reply, revokePlan(target, iso()), target.status)
  })
}
