import t from 'tap'
import fc from 'fast-check'
import { validatePlan, parseDocument, isSchemaFailure, checkPlanRules, type PlanContext } from '../src/documents.js'
import { instantMs, planRules } from '../src/rules/plan.js'
import type { Problem } from '../src/problems.js'
import { compileCatalog } from '../src/catalog.js'
import type { Plan, Grant } from '../src/schemas/plan.js'
import { psbDirectory, mcaDirectory, plan, memberMap, members } from './fixtures/docs-fixtures.js'

const catalog = compileCatalog([psbDirectory(), mcaDirectory()])
const context: PlanContext = { catalog, members: memberMap() }

function problemsOf (p: Plan, ctx: PlanContext = context): [string, string][] {
  const result = validatePlan(p, ctx)
  return result.ok ? [] : result.problems.map(x => [x.code, x.path])
}

function grant (overrides: Partial<Grant> = {}): Grant {
  return { id: 'g-extra', consumer: 'tj.psb', resource: 'tj.mca:low-income-households', fields: ['subsidyAmount'], purposes: ['audit'], ...overrides }
}

t.test('the example plan passes and comes back untouched', async t => {
  const p = plan()
  const result = validatePlan(p, context)
  t.ok(result.ok)
  if (result.ok) t.equal(result.value, p)
})

t.test('invalid-validity: plan', async t => {
  const p = plan()
  p.validUntil = p.validFrom
  p.grants = []
  t.same(problemsOf(p), [['invalid-validity', '/validUntil']])
  p.validUntil = '2025-12-31T23:59:59Z'
  t.same(problemsOf(p), [['invalid-validity', '/validUntil']])
  p.validUntil = '2026-01-01T08:00:01+08:00'
  t.same(problemsOf(p), [], 'offsets are compared as instants: one second after validFrom')
})

t.test('invalid-validity: grant', async t => {
  const p = plan()
  p.grants[0]!.validFrom = '2026-06-01T00:00:00Z'
  p.grants[0]!.validUntil = '2026-05-01T00:00:00Z'
  t.same(problemsOf(p), [['invalid-validity', '/grants/0/validUntil']])
  p.grants[0]!.validUntil = '2026-06-01T00:00:00Z'
  t.same(problemsOf(p), [['invalid-validity', '/grants/0/validUntil']], 'an empty period is invalid')
  p.grants[0]!.validUntil = '2026-06-01T00:00:01Z'
  t.same(problemsOf(p), [])
})

t.test('grant-outside-plan-validity', async t => {
  const p = plan()
  p.grants[0]!.validFrom = '2025-12-31T23:59:59Z'
  p.grants[0]!.validUntil = '2027-01-01T00:00:00Z'
  t.same(problemsOf(p), [['grant-outside-plan-validity', '/grants/0/validFrom'], ['grant-outside-plan-validity', '/grants/0/validUntil']])
  const q = plan()
  q.grants[1]!.validFrom = '2027-01-01T00:00:00Z'
  t.same(problemsOf(q), [['grant-outside-plan-validity', '/grants/1/validFrom']], 'a start after the plan ends, the end defaulting to the plan\'s')
  q.grants[1] = grant({ validUntil: '2025-06-01T00:00:00Z' })
  t.same(problemsOf(q), [['grant-outside-plan-validity', '/grants/1/validUntil']], 'an end before the plan starts')
  q.grants[1] = grant({ validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-12-31T23:59:59Z' })
  t.same(problemsOf(q), [], 'the plan\'s own bounds are within it')
  q.grants[1] = grant({ validUntil: '2026-12-31T23:59:60Z' })
  t.same(problemsOf(q), [['grant-outside-plan-validity', '/grants/1/validUntil']], 'a leap second is read as the next second')
  q.validUntil = '2026-12-31T23:59:60Z'
  t.same(problemsOf(q), [])
})

t.test('unknown-resource', async t => {
  const p = plan()
  p.grants.push(grant({ resource: 'tj.mca:nothing-here' }))
  t.same(problemsOf(p), [['unknown-resource', '/grants/2/resource']])
  t.same(problemsOf(p, { catalog: compileCatalog([]), members: memberMap() }).map(x => x[0]), ['unknown-resource', 'unknown-resource', 'unknown-resource'])
})

t.test('resource-not-shareable', async t => {
  const p = plan()
  p.grants.push(grant({ consumer: 'tj.mca', resource: 'tj.psb:criminal-records', fields: ['convictions'] }))
  t.same(problemsOf(p), [['resource-not-shareable', '/grants/2/resource']])
})

t.test('unknown-field', async t => {
  const p = plan()
  p.grants[0]!.fields = ['name', 'salary', 'householdAddress', 'subsidyAmount']
  const result = validatePlan(p, context)
  t.same(result.ok ? [] : result.problems.map(x => [x.code, x.path]), [['unknown-field', '/grants/0/fields/1'], ['unknown-field', '/grants/0/fields/3']])
  t.match(result.ok ? '' : result.problems[0]!.message, /use one of: idNumber, name, householdAddress$/)
})

t.test('unknown-field lists at most 20 items', async t => {
  const d = mcaDirectory()
  d.resources[0]!.items = Array.from({ length: 30 }, (_, i) => ({ name: 'item' + i, type: 'string' as const }))
  const p = plan()
  p.grants = [grant({ fields: ['nope'] })]
  const result = validatePlan(p, { catalog: compileCatalog([d]), members: memberMap() })
  t.match(result.ok ? '' : result.problems[0]!.message, /item19, \.\.\.$/)
})

t.test('consumer-not-agency', async t => {
  const p = plan()
  p.grants.push(grant({ id: 'g1', consumer: 'tj.it-office' }), grant({ id: 'g2', consumer: 'tj.nobody' }))
  const result = validatePlan(p, context)
  t.same(result.ok ? [] : result.problems.map(x => [x.code, x.path]), [['consumer-not-agency', '/grants/2/consumer'], ['consumer-not-agency', '/grants/3/consumer']])
  t.match(result.ok ? '' : result.problems[0]!.message, /role "agency"/)
  t.match(result.ok ? '' : result.problems[1]!.message, /not a registered member/)
})

t.test('consumer-is-provider', async t => {
  const p = plan()
  p.grants.push(grant({ consumer: 'tj.mca' }))
  t.same(problemsOf(p), [['consumer-is-provider', '/grants/2/consumer']])
  p.grants[2] = grant({ consumer: 'tj.mca', resource: 'tj.mca:unlisted' })
  t.same(problemsOf(p), [['unknown-resource', '/grants/2/resource'], ['consumer-is-provider', '/grants/2/consumer']], 'an unknown resource\'s provider is its id prefix')
})

t.test('duplicate-grant-id', async t => {
  const p = plan()
  p.grants.push(grant({ id: 'mca-household-2026' }))
  t.same(problemsOf(p), [['duplicate-grant-id', '/grants/2/id']])
})

t.test('duplicate-grant', async t => {
  const p = plan()
  p.grants.push(grant({ fields: ['name'], purposes: ['audit', 'statistics'] }))
  const result = validatePlan(p, context)
  t.same(result.ok ? [] : result.problems.map(x => [x.code, x.path]), [['duplicate-grant', '/grants/2/purposes/1']])
  t.match(result.ok ? '' : result.problems[0]!.message, /grant "psb-low-income" already gives tj\.psb access to tj\.mca:low-income-households for "statistics"/)
  const q = plan()
  q.grants.push(grant({ consumer: 'tj.mca', resource: 'tj.psb:household-registration', fields: ['name'], purposes: ['other-purpose'] }))
  t.same(problemsOf(q), [], 'another purpose for the same (consumer, resource) is a separate grant')
})

t.test('without catalog or members, only the self-contained rules run', async t => {
  const p = plan()
  p.grants.push(grant({ consumer: 'tj.ghost', resource: 'tj.ghost:x', fields: ['nope'] }))
  p.grants.push(grant({ consumer: 'tj.ghost', resource: 'tj.ghost:x', fields: ['nope'] }))
  t.same(problemsOf(p, { catalog: null, members: null }), [
    ['consumer-is-provider', '/grants/2/consumer'],
    ['duplicate-grant-id', '/grants/3/id'],
    ['consumer-is-provider', '/grants/3/consumer'],
    ['duplicate-grant', '/grants/3/purposes/0']
  ])
  const text = JSON.stringify(plan())
  t.ok(parseDocument('plan', text, { catalog: null, members: null }).ok)
  t.ok(parseDocument('plan', text, context).ok)
})

t.test('every problem at once, in document order', async t => {
  const p = plan()
  p.validFrom = '2027-01-01T00:00:00Z'
  p.grants[0]!.fields.push('salary')
  p.grants[0]!.consumer = 'tj.psb'
  p.grants.push(grant({ id: 'psb-low-income', consumer: 'tj.it-office', resource: 'tj.psb:criminal-records', fields: ['idNumber'] }))
  const result = validatePlan(p, { catalog, members: new Map(members().map(m => [m.id, m])) })
  t.notOk(result.ok)
  if (result.ok) return
  t.same(result.problems.map(x => [x.code, x.path]), [
    ['invalid-validity', '/validUntil'],
    ['unknown-field', '/grants/0/fields/2'],
    ['consumer-is-provider', '/grants/0/consumer'],
    ['duplicate-grant-id', '/grants/2/id'],
    ['resource-not-shareable', '/grants/2/resource'],
    ['consumer-not-agency', '/grants/2/consumer']
  ])
  t.notOk(isSchemaFailure(result.problems))
  t.ok(result.problems.every(x => x.message.length > 20))
})

t.test('schema first: no rule runs on a plan that fails the schema', async t => {
  const p = plan() as unknown as Record<string, unknown>
  p.validUntil = '2020-01-01T00:00:00Z'
  p.validFrom = 'next monday'
  const result = validatePlan(p, context)
  t.same(result.ok ? [] : result.problems.map(x => [x.code, x.path]), [['format', '/validFrom']])
  t.ok(!result.ok && isSchemaFailure(result.problems))
})

// How fast the rules run at scale is bench/scale's to measure (a 100,000-grant
// create), never a timed assertion here.
t.test('a plan of 20,000 grants validates', async t => {
  const p = plan()
  p.grants = Array.from({ length: 20_000 }, (_, i) => grant({ id: 'g' + i, purposes: ['p' + i] }))
  t.ok(validatePlan(p, context).ok, 'validated 20,000 grants')
})

// The rules as first written (one Map keyed by consumer + resource + purpose
// strings, two catalog lookups and a path string per grant): the reference the
// faster loop must match problem for problem, in order, on random plans.
function referenceRules (plan: Plan, context: PlanContext): Problem[] {
  const problems: Problem[] = []
  const planFrom = instantMs(plan.validFrom)
  const planUntil = instantMs(plan.validUntil)
  if (planFrom >= planUntil) problems.push({ code: 'invalid-validity', path: '/validUntil', message: `validUntil (${plan.validUntil}) must be later than validFrom (${plan.validFrom})` })
  const grantIds = new Set<string>()
  const covered = new Map<string, string>()
  plan.grants.forEach((g, i) => {
    const base = '/grants/' + i
    if (grantIds.has(g.id)) problems.push({ code: 'duplicate-grant-id', path: base + '/id', message: `grant id "${g.id}" is used twice in this plan; give each grant its own id` })
    grantIds.add(g.id)
    const from = g.validFrom === undefined ? undefined : instantMs(g.validFrom)
    const until = g.validUntil === undefined ? undefined : instantMs(g.validUntil)
    if (from !== undefined && until !== undefined && from >= until) problems.push({ code: 'invalid-validity', path: base + '/validUntil', message: `validUntil (${g.validUntil as string}) must be later than validFrom (${g.validFrom as string})` })
    if (planFrom < planUntil) {
      if (from !== undefined && (from < planFrom || from >= planUntil)) problems.push({ code: 'grant-outside-plan-validity', path: base + '/validFrom', message: `validFrom must fall within the plan's validity (${plan.validFrom} to ${plan.validUntil}); move it or omit it to use the plan's` })
      if (until !== undefined && (until > planUntil || until <= planFrom)) problems.push({ code: 'grant-outside-plan-validity', path: base + '/validUntil', message: `validUntil must fall within the plan's validity (${plan.validFrom} to ${plan.validUntil}); move it or omit it to use the plan's` })
    }
    if (context.catalog !== null) {
      const entry = context.catalog.get(g.resource)
      if (entry === undefined) {
        problems.push({ code: 'unknown-resource', path: base + '/resource', message: `resource "${g.resource}" is not in the catalog; check the id or have its agency list it in its directory` })
      } else {
        if (entry.resource.sharing.type === 'none') problems.push({ code: 'resource-not-shareable', path: base + '/resource', message: `resource "${g.resource}" has sharing "none" and cannot be granted; remove the grant or have its agency change the sharing type` })
        const names = [...entry.itemNames]
        const list = names.slice(0, 20).join(', ') + (names.length > 20 ? ', ...' : '')
        g.fields.forEach((field, k) => {
          if (!entry.itemNames.has(field)) problems.push({ code: 'unknown-field', path: `${base}/fields/${k}`, message: `"${field}" is not a data item of ${g.resource}; use one of: ${list}` })
        })
      }
    }
    if (context.members !== null) {
      const member = context.members.get(g.consumer)
      if (member === undefined) problems.push({ code: 'consumer-not-agency', path: base + '/consumer', message: `consumer "${g.consumer}" is not a registered member; register it with role "agency" or correct the id` })
      else if (!member.roles.includes('agency')) problems.push({ code: 'consumer-not-agency', path: base + '/consumer', message: `consumer "${g.consumer}" does not have role "agency"; only agencies may be granted data` })
    }
    const provider = context.catalog?.get(g.resource)?.provider ?? g.resource.slice(0, g.resource.indexOf(':'))
    if (provider === g.consumer) problems.push({ code: 'consumer-is-provider', path: base + '/consumer', message: `"${g.consumer}" provides ${g.resource} itself; an agency needs no grant for its own data, remove the grant` })
    g.purposes.forEach((purpose, k) => {
      const key = g.consumer + '\u0000' + g.resource + '\u0000' + purpose
      const first = covered.get(key)
      if (first !== undefined) problems.push({ code: 'duplicate-grant', path: `${base}/purposes/${k}`, message: `grant "${first}" already gives ${g.consumer} access to ${g.resource} for "${purpose}"; merge the two grants or drop the purpose from one` })
      else covered.set(key, g.id)
    })
  })
  return problems
}

t.test('every problem, in order, as the rules first written find them: random plans', async t => {
  const instant = fc.constantFrom(undefined, '2025-06-01T00:00:00Z', '2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z', '2026-12-31T23:59:60Z', '2027-06-01T00:00:00Z')
  const grantArb = fc.record({
    id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
    consumer: fc.constantFrom('tj.psb', 'tj.mca', 'tj.it-office', 'tj.nobody'),
    resource: fc.constantFrom('tj.psb:household-registration', 'tj.psb:criminal-records', 'tj.mca:low-income-households', 'tj.nobody:thing'),
    fields: fc.array(fc.constantFrom('idNumber', 'name', 'subsidyAmount', 'nothing'), { minLength: 1, maxLength: 3 }),
    // up to 10 purposes from 12: past FEW_PURPOSES, and repeats within a grant (not possible past the schema, checked anyway)
    purposes: fc.array(fc.constantFrom('audit', 'review', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9', 'p10'), { minLength: 1, maxLength: 10 }),
    validFrom: instant,
    validUntil: instant
  }).map(g => {
    const out: Grant = { id: g.id, consumer: g.consumer, resource: g.resource, fields: g.fields, purposes: g.purposes }
    if (g.validFrom !== undefined) out.validFrom = g.validFrom
    if (g.validUntil !== undefined) out.validUntil = g.validUntil
    return out
  })
  const planArb = fc.record({
    validUntil: fc.constantFrom('2026-12-31T23:59:59Z', '2025-12-31T23:59:59Z'),
    grants: fc.array(grantArb, { maxLength: 25 }),
    catalog: fc.boolean(),
    members: fc.boolean()
  })
  let found = 0
  fc.assert(fc.property(planArb, spec => {
    const p: Plan = { ...plan(), validUntil: spec.validUntil, grants: spec.grants }
    const ctx: PlanContext = { catalog: spec.catalog ? catalog : null, members: spec.members ? memberMap() : null }
    const expected = referenceRules(p, ctx)
    found += expected.length
    t.same(planRules(p, ctx), expected)
    const checked = checkPlanRules(p, ctx)
    t.same(checked, expected.length === 0 ? { ok: true, value: p } : { ok: false, problems: expected }, 'checkPlanRules: the rules alone')
  }), { numRuns: 400 })
  t.ok(found > 1000, `the plans had problems to find (${found})`)
})
