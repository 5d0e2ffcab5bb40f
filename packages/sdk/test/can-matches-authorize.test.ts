// client.can() is the gateway's decision, dry: for the same grants and the same
// request, core's authorize() and the SDK's can() give the same outcome, code,
// grant and message, and both give what PROTOCOL.md "Exchange" says — the grant
// for (consumer, resource) within validity (NO_GRANT) → purpose
// (PURPOSE_NOT_GRANTED) → fields (FIELDS_NOT_GRANTED) → conditions
// (CONDITION_UNMET), the first that fails answering. Table over random valid
// plans (1 to 6 grants for the pair, with different purposes and validity
// windows: expired, in force, not yet valid, the plan's) × every purpose listed
// or not × fields in or out × userId/caseRef present or not × instants on and
// beside the windows' edges. can() wrote that order a second time and drifted
// (session 7: purpose before validity); it never checked conditions at all.
import t from 'tap'
import { MockAgent } from 'undici'
import {
  authorize, buildPlanIndex, compileCatalog, createPlanState, generateKeyPair, validatePlan,
  type AuthorizeRequest, type Grant, type Member, type Plan, type PlanIndex
} from '@govex/core'
import { createClient, type CanRequest } from '../src/index.js'

const RESOURCE = 'tj.psb:household-registration'
const OTHER = 'tj.psb:residents-by-street'
const CONSUMER = 'tj.mca'
const ITEMS = ['name', 'householdAddress', 'idNumber']
const PURPOSES = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']
const ORIGIN = 'http://gateway.test'

const resource = (id: string) => ({
  id, name: id, description: 'test resource', classification: 'basic:population', securityLevel: 'internal' as const,
  sharing: { type: 'unconditional' as const }, items: ITEMS.map(name => ({ name, type: 'string' as const })), endpoint: { url: 'http://127.0.0.1:4001/x' }
})
const catalog = compileCatalog([{ agency: 'tj.psb', version: 1, resources: [resource(RESOURCE), resource(OTHER)] }])
const member = (id: string): Member => ({ id, name: id, roles: ['agency'], keys: [generateKeyPair('k1').publicJwk] })
const members = new Map(['tj.psb', CONSUMER, 'tj.hrss'].map(id => [id, member(id)]))

const PLAN_FROM = '2026-01-01T00:00:00Z'
const PLAN_UNTIL = '2026-12-31T23:59:59Z'
/** a grant's own validity: none (the plan's), or a window that ends before, holds, or starts after mid-year */
const WINDOWS: Array<{ validFrom?: string, validUntil?: string }> = [
  {},
  { validFrom: PLAN_FROM, validUntil: '2026-03-31T23:59:59Z' },
  { validFrom: '2026-04-01T00:00:00Z', validUntil: '2026-08-31T23:59:59Z' },
  { validFrom: '2026-09-01T00:00:00Z' },
  { validUntil: '2026-05-31T23:59:59Z' }
]
/** before the plan, each window's edges (inclusive) and beside them, after the plan */
const INSTANTS = ['2025-12-31T23:59:59Z', PLAN_FROM, '2026-03-31T23:59:59Z', '2026-04-01T00:00:00Z', '2026-06-01T00:00:00Z',
  '2026-08-31T23:59:59.999Z', '2026-09-01T00:00:00Z', PLAN_UNTIL, '2027-01-01T00:00:00Z'].map(s => Date.parse(s))
const FIELDS: Array<string[] | undefined> = [undefined, ['name'], ['householdAddress'], ['name', 'idNumber'], ['idNumber'], []]
const CONDITIONS: Array<Grant['conditions']> = [undefined, { requireCaseRef: true }, { requireUserId: true }, { requireCaseRef: true, requireUserId: true }, { requireCaseRef: false }]

// A deterministic PRNG: every run checks the same plans.
let seed = 0x2545f491
function random (): number {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5
  return (seed >>> 0) / 0x100000000
}
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
const subset = (list: readonly string[]): string[] => {
  const chosen = list.filter(() => random() < 0.5)
  return chosen.length > 0 ? chosen : [pick(list)]
}

/** 1 to 6 grants for (tj.mca, RESOURCE), no purpose in two of them (MODEL.md), plus grants the choice must not see. */
function randomPlan (n: number): Plan {
  const purposes = PURPOSES.slice().sort(() => random() - 0.5)
  const count = 1 + Math.floor(random() * 6)
  const grants: Grant[] = []
  for (let i = 0; i < count; i++) {
    const own = [purposes.pop() as string]
    if (purposes.length > count - 1 - i && random() < 0.4) own.push(purposes.pop() as string)
    const conditions = pick(CONDITIONS)
    grants.push({
      id: `g${i}`, consumer: CONSUMER, resource: RESOURCE, fields: subset(ITEMS), purposes: own,
      ...pick(WINDOWS), ...(conditions === undefined ? {} : { conditions })
    })
  }
  // in force, listing every purpose, but for another resource or another consumer
  grants.splice(Math.floor(random() * (grants.length + 1)), 0, { id: 'other-resource', consumer: CONSUMER, resource: OTHER, fields: ITEMS, purposes: PURPOSES })
  grants.push({ id: 'other-consumer', consumer: 'tj.hrss', resource: RESOURCE, fields: ITEMS, purposes: PURPOSES })
  return { id: 'tj-sharing-plan', version: n, title: 'random plan', validFrom: PLAN_FROM, validUntil: PLAN_UNTIL, grants }
}

interface Outcome { allowed: boolean, code?: string | undefined, grantId?: string | undefined }

/** PROTOCOL.md's order, read literally over the pair's grants in plan order (the reference both must meet). */
function expected (plan: Plan, request: AuthorizeRequest): Outcome {
  const grants = plan.grants.filter(g => g.consumer === request.consumer && g.resource === request.resourceId)
  const from = (g: Grant) => Date.parse(g.validFrom ?? plan.validFrom)
  const until = (g: Grant) => Date.parse(g.validUntil ?? plan.validUntil)
  const inForce = (g: Grant) => request.now >= from(g) && request.now <= until(g)
  const listing = grants.filter(g => g.purposes.includes(request.purpose))
  const chosen = listing.find(inForce)
  // no grant in force for the pair, or the one for this purpose out of its validity
  if (!grants.some(inForce) || (listing.length > 0 && chosen === undefined)) return { allowed: false, code: 'GOVEX_ERR_NO_GRANT', grantId: listing[0]?.id ?? grants[0]?.id }
  if (chosen === undefined) return { allowed: false, code: 'GOVEX_ERR_PURPOSE_NOT_GRANTED', grantId: grants.find(inForce)?.id }
  if ((request.fields ?? []).some(f => !chosen.fields.includes(f))) return { allowed: false, code: 'GOVEX_ERR_FIELDS_NOT_GRANTED', grantId: chosen.id }
  const unmet = (need: boolean | undefined, value: string | undefined) => need === true && (value === undefined || value === '')
  if (unmet(chosen.conditions?.requireCaseRef, request.caseRef) || unmet(chosen.conditions?.requireUserId, request.userId)) {
    return { allowed: false, code: 'GOVEX_ERR_CONDITION_UNMET', grantId: chosen.id }
  }
  return { allowed: true, grantId: chosen.id }
}

/** GET /v1/grants/mine as the gateway answers it: the caller's grants in plan order, a grant without its own validity given the plan's. */
function grantsMine (index: PlanIndex, consumer: string) {
  const { validFrom, validUntil } = index.state
  return { consumer, plan: index.plan, grants: index.grantsFor(consumer).map(g => ({ ...g, validFrom: g.validFrom ?? validFrom, validUntil: g.validUntil ?? validUntil })) }
}

t.test('authorize() and can() give PROTOCOL.md\'s outcome, with the same code, grant and message', async t => {
  const agent = new MockAgent()
  agent.disableNetConnect()
  t.teardown(() => agent.close())
  let answer: unknown = null
  agent.get(ORIGIN).intercept({ path: '/v1/grants/mine', method: 'GET' })
    .reply(() => ({ statusCode: 200, data: JSON.stringify(answer), responseOptions: { headers: { 'content-type': 'application/json' } } })).persist()
  const client = createClient({ gatewayUrl: ORIGIN, memberId: CONSUMER, privateKey: generateKeyPair('k1').privateJwk, gatewayId: 'tj.gw', dispatcher: agent })

  const seen = new Map<string, number>()
  let crowded = 0
  let cases = 0
  let mismatches = 0
  for (let n = 1; n <= 25; n++) {
    const plan = randomPlan(n)
    const valid = validatePlan(plan, { catalog, members })
    t.ok(valid.ok, `plan ${n} obeys MODEL.md's rules`, valid.ok ? {} : { problems: valid.problems })
    const index = buildPlanIndex(createPlanState(plan), catalog)
    if (plan.grants.filter(g => g.consumer === CONSUMER && g.resource === RESOURCE).length > 4) crowded++
    answer = grantsMine(index, CONSUMER)
    for (const purpose of [...PURPOSES, 'unlisted']) {
      for (const fields of FIELDS) {
        for (const userId of [undefined, '', 'officer-4711']) {
          for (const caseRef of [undefined, 'MCA-2026-000123']) {
            for (const now of INSTANTS) {
              const request: AuthorizeRequest = { consumer: CONSUMER, resourceId: RESOURCE, zone: 'extranet', purpose, fields, userId, caseRef, now }
              const want = expected(plan, request)
              const core = authorize(index, catalog, request)
              const asked: CanRequest = { purpose, fields, userId, caseRef }
              const sdk = await client.can(RESOURCE, asked, now)
              const gotCore: Outcome = core.allow ? { allowed: true, grantId: core.grant.id } : { allowed: false, code: core.code, grantId: core.grant?.id }
              const gotSdk: Outcome = { allowed: sdk.allowed, code: sdk.code, grantId: sdk.grant?.id }
              const key = want.code ?? 'allowed'
              seen.set(key, (seen.get(key) ?? 0) + 1)
              cases++
              const same = JSON.stringify(gotCore) === JSON.stringify(want) && JSON.stringify(gotSdk) === JSON.stringify(want) &&
                (core.allow ? JSON.stringify(sdk.fields) === JSON.stringify(core.fields) : sdk.message === core.message)
              if (!same && mismatches++ < 5) {
                t.fail('authorize(), can() and PROTOCOL.md disagree', { plan: plan.grants, request: { ...request, now: new Date(now).toISOString() }, want, gotCore, gotSdk, coreMessage: core.allow ? undefined : core.message, sdkMessage: sdk.message })
              }
            }
          }
        }
      }
    }
  }
  t.equal(mismatches, 0, `${cases} cases agree`)
  // the table reaches every outcome, and plans crowded enough for the index's purpose map
  for (const code of ['allowed', 'GOVEX_ERR_NO_GRANT', 'GOVEX_ERR_PURPOSE_NOT_GRANTED', 'GOVEX_ERR_FIELDS_NOT_GRANTED', 'GOVEX_ERR_CONDITION_UNMET']) {
    t.ok((seen.get(code) ?? 0) > 100, `${code}: ${seen.get(code) ?? 0} cases`)
  }
  t.ok(crowded > 0, `${crowded} plans with more than 4 grants for the pair`)
})
