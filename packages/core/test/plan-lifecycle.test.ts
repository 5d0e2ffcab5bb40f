import t from 'tap'
import {
  PLAN_TRANSITIONS, canTransition, createPlanState, approvePlan, activatePlan, revokePlan, supersedePlan
} from '../src/plan/lifecycle.js'
import { signApproval } from '../src/plan/approval.js'
import { digestOf, canonicalJson } from '../src/canonical.js'
import { PLAN_STATUSES, type PlanState, type PlanStatus } from '../src/schemas/plan.js'
import { grant, keyedMember, plan } from './helpers/plan-fixtures.js'

const AT = '2026-03-01T08:00:00.000Z'
const approver = keyedMember('tj.gov', ['approver'], 'gov-1')
const document = plan([grant({ id: 'g1' })])

function draft (): PlanState {
  return createPlanState(document)
}
function approved (): PlanState {
  const state = draft()
  return approvePlan(state, { approver: approver.member, signature: signApproval(state.digest, approver.key), at: AT })
}
function inState (status: PlanStatus): PlanState {
  switch (status) {
    case 'draft': return draft()
    case 'approved': return approved()
    case 'active': return activatePlan(approved(), AT)
    case 'superseded': return supersedePlan(activatePlan(approved(), AT), AT)
    case 'revoked': return revokePlan(approved(), AT)
  }
}

const LEGAL: Array<[PlanStatus, PlanStatus]> = [
  ['draft', 'approved'], ['approved', 'active'], ['approved', 'revoked'], ['active', 'superseded'], ['active', 'revoked']
]

t.test('createPlanState: a draft with the digest of the document', async t => {
  const state = draft()
  t.same(state, { ...document, status: 'draft', digest: digestOf(document), approvals: [], activatedAt: null })
  t.match(state.digest, /^sha256:[0-9a-f]{64}$/)
  // The digest covers only the document: state fields passed in are ignored.
  const fromState = createPlanState({ ...state, status: 'active' } as PlanState)
  t.equal(fromState.digest, state.digest)
  t.equal(fromState.status, 'draft')
  t.notOk('approvals' in JSON.parse(canonicalJson(document)))
  t.not(createPlanState(plan([grant({ id: 'g2' })])).digest, state.digest, 'another document, another digest')
})

t.test('the transition table', async t => {
  for (const from of PLAN_STATUSES) {
    for (const to of PLAN_STATUSES) {
      const legal = LEGAL.some(([f, x]) => f === from && x === to)
      t.equal(canTransition(from, to), legal, `${from} -> ${to}`)
    }
  }
  t.equal(canTransition('bogus' as PlanStatus, 'draft'), false, 'unknown state')
  t.ok(Object.isFrozen(PLAN_TRANSITIONS) && Object.isFrozen(PLAN_TRANSITIONS.draft))
})

t.test('every legal step', async t => {
  const d = draft()
  const a = approved()
  t.equal(a.status, 'approved')
  t.same(a.approvals, [{ approver: 'tj.gov', kid: 'gov-1', signature: signApproval(d.digest, approver.key), at: AT }])
  t.equal(d.status, 'draft', 'pure: the input is unchanged')
  t.same(d.approvals, [])

  const active = activatePlan(a, '2026-03-02T00:00:00Z')
  t.match(active, { status: 'active', activatedAt: '2026-03-02T00:00:00Z', digest: d.digest, approvals: a.approvals })
  t.equal(a.status, 'approved')

  t.match(supersedePlan(active, '2026-04-01T00:00:00Z'), { status: 'superseded', supersededAt: '2026-04-01T00:00:00Z', activatedAt: '2026-03-02T00:00:00Z' })
  t.match(revokePlan(active, '2026-04-02T00:00:00Z'), { status: 'revoked', revokedAt: '2026-04-02T00:00:00Z' })
  t.match(revokePlan(a, '2026-04-03T00:00:00Z'), { status: 'revoked', revokedAt: '2026-04-03T00:00:00Z', activatedAt: null })
  t.equal(active.status, 'active')
})

t.test('every illegal step is a CONFLICT that names the state and what to do', async t => {
  const steps: Record<PlanStatus, ((s: PlanState) => PlanState) | null> = {
    draft: null,
    approved: s => approvePlan(s, { approver: approver.member, signature: signApproval(s.digest, approver.key), at: AT }),
    active: s => activatePlan(s, AT),
    superseded: s => supersedePlan(s, AT),
    revoked: s => revokePlan(s, AT)
  }
  const advice: Record<string, RegExp> = {
    'approved->approved': /already approved and immutable; to change it, submit version 4/,
    'active->approved': /already approved and immutable/,
    'superseded->approved': /only a draft can be approved; submit version 4 as a new draft/,
    'revoked->approved': /only a draft can be approved/,
    'draft->active': /approve it first/,
    'active->active': /already active/,
    'superseded->active': /a superseded plan never comes back; submit version 4/,
    'revoked->active': /a revoked plan never comes back/,
    'draft->superseded': /only the active plan is superseded/,
    'approved->superseded': /only the active plan is superseded/,
    'superseded->superseded': /no longer in force/,
    'revoked->superseded': /no longer in force/,
    'draft->revoked': /a draft grants nothing/,
    'superseded->revoked': /no longer in force/,
    'revoked->revoked': /no longer in force/
  }
  let illegal = 0
  for (const from of PLAN_STATUSES) {
    for (const to of PLAN_STATUSES) {
      const run = steps[to]
      if (run === null || canTransition(from, to)) continue
      illegal++
      const state = inState(from)
      t.throws(() => run(state), {
        code: 'GOVEX_ERR_CONFLICT',
        statusCode: 409,
        message: new RegExp(`^plan tj-sharing-plan version 3 is ${from}, it cannot become ${to}: `)
      }, `${from} -> ${to}`)
      t.throws(() => run(state), { message: advice[`${from}->${to}`] }, `${from} -> ${to} advice`)
      t.equal(state.status, from)
    }
  }
  t.equal(illegal, 15)
})

t.test('approvePlan refuses a signature that does not verify', async t => {
  const state = draft()
  const other = keyedMember('tj.other', ['approver'], 'o')
  const notApprover = keyedMember('tj.it-office', ['operator'], 'op')
  const cases: Array<[string, Parameters<typeof approvePlan>[1], RegExp]> = [
    ['wrong key', { approver: approver.member, signature: signApproval(state.digest, keyedMember('x', ['approver'], 'gov-1').key), at: AT }, /does not verify/],
    ["other member's kid", { approver: approver.member, signature: signApproval(state.digest, other.key), at: AT }, /has no key "o"/],
    ['non-approver', { approver: notApprover.member, signature: signApproval(state.digest, notApprover.key), at: AT }, /does not have the approver role/],
    ['another digest', { approver: approver.member, signature: signApproval(createPlanState(plan([])).digest, approver.key), at: AT }, /does not verify/],
    ['malformed', { approver: approver.member, signature: 'abc', at: AT }, /not a detached JWS/]
  ]
  for (const [name, input, reason] of cases) {
    t.throws(() => approvePlan(state, input), { code: 'GOVEX_ERR_BAD_SIGNATURE', statusCode: 422, message: /^approval of plan tj-sharing-plan version 3 refused: / }, name)
    t.throws(() => approvePlan(state, input), { message: reason }, name)
  }
  // a tampered document: the stored digest no longer matches the signed one
  const tampered = { ...state, digest: createPlanState({ ...document, title: 'changed' }).digest }
  t.throws(() => approvePlan(tampered, { approver: approver.member, signature: signApproval(state.digest, approver.key), at: AT }), { code: 'GOVEX_ERR_BAD_SIGNATURE' })
  t.equal(state.status, 'draft')
})
