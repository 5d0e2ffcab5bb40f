// A plan state's JSON (planStateJson, planStateJsonReusing, the file plan
// store): always the bytes of JSON.stringify(state), however much of it is
// taken from an earlier state's text instead of serialised again.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { activatePlan, approvePlan, createPlanState, revokePlan } from '../src/plan/lifecycle.js'
import { signApproval } from '../src/plan/approval.js'
import { freezePlanState, planStateJson, planStateJsonInTurns, planStateJsonReusing } from '../src/store/memory/plans.js'
import { FilePlanStore } from '../src/store/file/plans.js'
import type { PlanState } from '../src/schemas/plan.js'
import { grant, keyedMember, plan } from './helpers/plan-fixtures.js'

const approver = keyedMember('tj.gov', ['approver'])
const grants = (n: number, tag = 'g') => Array.from({ length: n }, (_, i) => grant({ id: `${tag}${i}`, consumer: `tj.c${i % 7}`, purposes: ['review', 'é\u{1F600}'] }))

function lifecycle (n: number, version = 3): PlanState[] {
  const draft = freezePlanState(createPlanState(plan(grants(n), { version, title: 'Plan "quoted" \u2028 ✓' })))
  const approved = freezePlanState(approvePlan(draft, { approver: approver.member, signature: signApproval(draft.digest, approver.key), at: '2026-01-02T00:00:00Z' }))
  const active = freezePlanState(activatePlan(approved, '2026-01-03T00:00:00Z'))
  const revoked = freezePlanState(revokePlan(active, '2026-01-04T00:00:00Z'))
  return [draft, approved, active, revoked]
}

const json = (state: unknown): string => JSON.stringify(state)

t.test('every lifecycle step: the bytes of JSON.stringify, the grants serialised once', async t => {
  const states = lifecycle(50)
  for (const state of states) {
    const bytes = planStateJson(state)
    t.equal(bytes.toString('utf8'), json(state), state.status)
    t.equal(planStateJson(state), bytes, 'the same state: the same bytes, remembered')
  }
  t.ok(states.every(s => s.grants === states[0]?.grants), 'the steps share one grants array')
})

t.test('states of any shape: key order, properties after the grants, undefined members, no grants', async t => {
  const base = lifecycle(3)[1] as PlanState
  const reordered = freezePlanState({ grants: base.grants, status: 'approved', id: 'x', version: 1, title: 't', validFrom: base.validFrom, validUntil: base.validUntil, digest: base.digest, approvals: [], activatedAt: null } as PlanState)
  const withUndefined = freezePlanState({ ...base, revokedAt: undefined, supersededAt: null } as PlanState)
  const grantsLast = freezePlanState({ status: base.status, id: base.id, grants: base.grants } as unknown as PlanState)
  const noGrants = { ...base, grants: undefined } as unknown as PlanState
  const oddGrants = { ...base, grants: 'not a list' } as unknown as PlanState
  const withToJson = { ...base, toJSON: () => ({ replaced: true }) } as unknown as PlanState
  const unfrozen = { ...base, title: 'not frozen' }
  const frozenToJson = freezePlanState({ ...base, toJSON: () => ({ replaced: true }) } as unknown as PlanState)
  for (const state of [base, reordered, withUndefined, grantsLast, noGrants, oddGrants, withToJson, unfrozen, base, frozenToJson, base]) {
    t.equal(planStateJson(state).toString('utf8'), json(state))
  }
})

t.test('reusing an earlier state\'s text: the grants taken from it, or serialised when it does not hold them', async t => {
  const [, approved, active, revoked] = lifecycle(40, 7) as [PlanState, PlanState, PlanState, PlanState]
  const other = lifecycle(2, 8)[0] as PlanState
  const text = Buffer.from(json(approved))
  const fresh = async (state: PlanState, previous: PlanState, read: () => Promise<Buffer>): Promise<string> => {
    planStateJson(other) // forget the grants at hand
    return (await planStateJsonReusing(state, previous, read)).toString('utf8')
  }
  let reads = 0
  const reader = (bytes: Buffer) => async () => { reads++; return bytes }
  t.equal(await fresh(active, approved, reader(text)), json(active), 'grants from the previous text')
  t.equal(reads, 1)
  t.equal(planStateJson(active).toString('utf8'), json(active), 'and remembered')
  t.equal((await planStateJsonReusing(revoked, active, reader(text))).toString('utf8'), json(revoked), 'at hand already')
  t.equal(reads, 1, 'so nothing read')
  t.equal(await fresh(active, approved, reader(Buffer.from(JSON.stringify(approved, null, 2)))), json(active), 'a text laid out otherwise: serialised')
  t.equal(await fresh(active, approved, reader(Buffer.from(json(revoked)))), json(active), 'another state\'s text: serialised')
  t.equal(await fresh(active, approved, reader(Buffer.from('{}'))), json(active), 'a short text')
  t.equal(await fresh(active, approved, async () => { throw new Error('gone') }), json(active), 'an unreadable text: serialised')
  t.equal(await fresh(active, other, reader(text)), json(active), 'a previous state with other grants: not read')
  const shapeless = { ...approved, grants: undefined } as unknown as PlanState
  t.equal(await fresh({ ...shapeless, status: 'active' } as PlanState, shapeless, reader(text)), json({ ...shapeless, status: 'active' }))
})

t.test('file store: every step and the plan an activation supersedes, after a reopen, are written as JSON.stringify', async t => {
  const dir = t.testdir()
  const path = (state: PlanState): string => join(dir, 'plans', state.id, `${state.version}.json`)
  const [draft1, approved1, active1] = lifecycle(30, 1) as [PlanState, PlanState, PlanState]
  const store = await FilePlanStore.open({ dir })
  await store.create(draft1)
  await store.update(approved1, 'draft')
  await store.update(active1, 'approved')
  t.equal(readFileSync(path(active1), 'utf8'), json(active1))

  // A new process: nothing at hand, the grants come from the files.
  const reopened = await FilePlanStore.open({ dir })
  const loaded = await reopened.get(active1.id, 1) as PlanState
  const [draft2, approved2, active2] = lifecycle(20, 2) as [PlanState, PlanState, PlanState]
  await reopened.create(draft2)
  await reopened.update(approved2, 'draft')
  planStateJson(draft1) // other grants at hand
  await reopened.update(active2, 'approved')
  t.equal(readFileSync(path(active2), 'utf8'), json(active2))
  const superseded = await reopened.get(active1.id, 1) as PlanState
  t.equal(superseded.status, 'superseded')
  t.equal(superseded.grants, loaded.grants, 'the superseded state keeps the loaded grants')
  t.equal(readFileSync(path(superseded), 'utf8'), json(superseded))
  const revoked2 = revokePlan(await reopened.get(active2.id, 2) as PlanState, '2026-02-01T00:00:00Z')
  planStateJson(draft1)
  await reopened.update(revoked2, 'active')
  t.equal(readFileSync(path(revoked2), 'utf8'), json(revoked2))
})

t.test('planStateJsonInTurns: the bytes of JSON.stringify, a slice of grants at a time, with turns between', async t => {
  const [draft, approved] = lifecycle(4500)
  const withHoles = freezePlanState({ ...(approved as PlanState), grants: Object.assign((approved as PlanState).grants.slice(), { 2001: undefined }), title: 'holes' } as PlanState)
  const grantsLast = freezePlanState({ status: 'draft', id: 'x', grants: (draft as PlanState).grants } as unknown as PlanState)
  for (const state of [draft, approved, withHoles, grantsLast, lifecycle(3)[0]] as PlanState[]) {
    planStateJson(lifecycle(1)[0] as PlanState) // nothing of it at hand
    let ticks = 0
    const timer = setInterval(() => { ticks++ }, 0)
    const bytes = await planStateJsonInTurns(state, 0)
    clearInterval(timer)
    t.equal(bytes.toString('utf8'), json(state), state.title)
    if (state.grants.length > 2000) t.ok(ticks > 0, 'timers ran between its slices')
    t.equal(planStateJson(state), bytes, 'and remembered, as planStateJson remembers')
    // the next step reuses the grants' bytes it placed
    if (state === draft) t.equal(planStateJson(approved as PlanState).toString('utf8'), json(approved))
  }
})
