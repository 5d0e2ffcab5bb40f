// The plan lifecycle (MODEL.md "Sharing plan"): draft → approved → active →
// superseded | revoked, and approved → revoked. Pure functions: each step
// returns a new state and refuses any other move with GOVEX_ERR_CONFLICT and a
// message that says what to do instead.
import { digestInTurns, digestOf } from '../canonical.js'
import { GovexError } from '../codes.js'
import { planDocument, type Plan, type PlanState, type PlanStatus } from '../schemas/plan.js'
import type { Member } from '../schemas/member.js'
import { verifyApproval } from './approval.js'

export const PLAN_TRANSITIONS: Readonly<Record<PlanStatus, readonly PlanStatus[]>> = Object.freeze({
  draft: Object.freeze(['approved'] as const),
  approved: Object.freeze(['active', 'revoked'] as const),
  active: Object.freeze(['superseded', 'revoked'] as const),
  superseded: Object.freeze([] as const),
  revoked: Object.freeze([] as const)
})

export function canTransition (from: PlanStatus, to: PlanStatus): boolean {
  return PLAN_TRANSITIONS[from]?.includes(to) ?? false
}

export function createPlanState (plan: Plan): PlanState {
  const document = planDocument(plan)
  return { ...document, status: 'draft', digest: digestOf(document), approvals: [], activatedAt: null }
}

/** createPlanState() for a large plan: its digest is taken in turns of the event loop (digestInTurns). */
export async function createPlanStateInTurns (plan: Plan): Promise<PlanState> {
  const document = planDocument(plan)
  return { ...document, status: 'draft', digest: await digestInTurns(document), approvals: [], activatedAt: null }
}

function advice (state: PlanState, to: PlanStatus): string {
  const next = `submit version ${state.version + 1} as a new draft`
  switch (to) {
    case 'approved':
      return state.status === 'approved' || state.status === 'active'
        ? `it is already approved and immutable; to change it, ${next}`
        : `only a draft can be approved; ${next}`
    case 'active':
      if (state.status === 'draft') return 'approve it first (POST /v1/plans/{id}/approve)'
      if (state.status === 'active') return 'it is already active'
      return `a ${state.status} plan never comes back; ${next}, approve and activate it`
    case 'revoked':
      if (state.status === 'draft') return 'a draft grants nothing, so there is nothing to revoke; leave it or replace it'
      return 'it is no longer in force'
    default:
      return state.status === 'draft' || state.status === 'approved'
        ? 'only the active plan is superseded, by activating another'
        : 'it is no longer in force'
  }
}

function conflict (state: PlanState, to: PlanStatus): GovexError {
  return new GovexError('GOVEX_ERR_CONFLICT',
    `plan ${state.id} version ${state.version} is ${state.status}, it cannot become ${to}: ${advice(state, to)}`)
}

function step (state: PlanState, to: PlanStatus): void {
  if (!canTransition(state.status, to)) throw conflict(state, to)
}

export interface ApproveInput {
  approver: Member
  /** detached JWS over the plan's digest (see signApproval) */
  signature: string
  /** ISO 8601 instant */
  at: string
}

/** draft → approved, once the approver's signature over the digest verifies. */
export function approvePlan (state: PlanState, input: ApproveInput): PlanState {
  step(state, 'approved')
  const check = verifyApproval(input.signature, state.digest, input.approver)
  if (!check.ok) throw new GovexError('GOVEX_ERR_BAD_SIGNATURE', `approval of plan ${state.id} version ${state.version} refused: ${check.reason}`)
  return {
    ...state,
    status: 'approved',
    approvals: [...state.approvals, { approver: input.approver.id, kid: check.kid, signature: input.signature, at: input.at }]
  }
}

/** approved → active. The caller supersedes the previous active plan in the same store operation. */
export function activatePlan (state: PlanState, at: string): PlanState {
  step(state, 'active')
  return { ...state, status: 'active', activatedAt: at }
}

/** active | approved → revoked: exchanges under it stop at once. */
export function revokePlan (state: PlanState, at: string): PlanState {
  step(state, 'revoked')
  return { ...state, status: 'revoked', revokedAt: at }
}

/** active → superseded, when another plan is activated. */
export function supersedePlan (state: PlanState, at: string): PlanState {
  step(state, 'superseded')
  return { ...state, status: 'superseded', supersededAt: at }
}
