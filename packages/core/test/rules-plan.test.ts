import t from 'tap'
import { validatePlan, parseDocument, isSchemaFailure, type PlanContext } from '../src/documents.js'
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

t.test('many grants stay linear', async t => {
  const p = plan()
  p.grants = Array.from({ length: 20_000 }, (_, i) => grant({ id: 'g' + i, purposes: ['p' + i] }))
  const started = performance.now()
  t.ok(validatePlan(p, context).ok)
  t.ok(performance.now() - started < 5000, 'validated 20,000 grants')
})
