import t from 'tap'
import fc from 'fast-check'
import { authorize, type AuthorizeRequest } from '../src/authorize.js'
import { CROWDED, buildPlanIndex, buildPlanIndexInSlices, grantsForPurpose, type PlanIndex } from '../src/plan/plan-index.js'
import { createPlanState } from '../src/plan/lifecycle.js'
import type { Grant } from '../src/schemas/plan.js'
import { HOUSEHOLD, catalogFixture, grant, plan } from './helpers/plan-fixtures.js'

const catalog = catalogFixture()

t.test('indexes grants by consumer, resource and purpose', async t => {
  const g1 = grant({ id: 'g1', purposes: ['review', 'audit'], quota: { perMinute: 5 }, conditions: { requireCaseRef: true } })
  const g2 = grant({ id: 'g2', resource: 'tj.psb:public-notices', fields: ['name'], validFrom: '2026-02-01T00:00:00Z', validUntil: '2026-03-01T00:00:00Z' })
  const g3 = grant({ id: 'g3', consumer: 'tj.hrss', purposes: ['pension'], conditions: { requireUserId: true }, quota: {} })
  const g4 = grant({ id: 'g4', purposes: ['other'], quota: { perDay: 9 } })
  const state = createPlanState(plan([g1, g2, g3, g4]))
  const index = buildPlanIndex(state, catalog)

  t.same(index.plan, { id: 'tj-sharing-plan', version: 3 })
  t.equal(index.state, state)
  t.equal(index.size, 4)
  t.same(index.skipped, [])

  const mca = index.lookup('tj.mca', HOUSEHOLD)
  t.ok(mca)
  if (mca === undefined) return
  t.same(mca.any.map(g => g.grant.id), ['g1', 'g4'])
  t.equal(mca.byPurpose, null, 'a few grants are checked one by one')
  t.same(grantsForPurpose(mca, 'review').map(g => g.grant.id), ['g1'])
  t.same(grantsForPurpose(mca, 'other').map(g => g.grant.id), ['g4'])
  t.same(grantsForPurpose(mca, 'none'), [])
  const first = grantsForPurpose(mca, 'review')[0]
  t.equal(grantsForPurpose(mca, 'audit')[0], first, 'one object per grant, under each purpose')
  t.same([...(first?.purposes ?? [])], ['review', 'audit'])
  t.match(first, {
    grant: g1,
    fields: ['name', 'householdAddress'],
    validFrom: Date.parse('2026-01-01T00:00:00Z'),
    validUntil: Date.parse('2026-12-31T23:59:59Z'),
    requireCaseRef: true,
    requireUserId: false,
    quota: { perMinute: 5, perDay: undefined }
  })
  t.ok(first?.fieldSet.has('householdAddress'))
  t.notOk(first?.fieldSet.has('idNumber'))
  t.ok(Object.isFrozen(first?.fields), 'default field list cannot be changed by a caller')
  t.equal(grantsForPurpose(mca, 'other')[0]?.quota?.perDay, 9)

  t.match(index.lookup('tj.mca', 'tj.psb:public-notices')?.any[0], {
    validFrom: Date.parse('2026-02-01T00:00:00Z'), validUntil: Date.parse('2026-03-01T00:00:00Z'), quota: null
  })
  t.match(index.lookup('tj.hrss', HOUSEHOLD)?.any[0], { requireUserId: true, requireCaseRef: false, quota: null }, 'empty quota is unlimited')
  t.equal(index.lookup('tj.hrss', 'tj.psb:public-notices'), undefined)
  t.equal(index.lookup('tj.nobody', HOUSEHOLD), undefined)

  t.same(index.grantsFor('tj.mca'), [g1, g2, g4])
  t.same(index.grantsFor('tj.hrss'), [g3])
  t.same(index.grantsFor('tj.nobody'), [])
  t.ok(Object.isFrozen(index.grantsFor('tj.mca')))
})

t.test('grant validity is clipped to the plan\'s; bad instants close the window', async t => {
  const index = buildPlanIndex(createPlanState(plan([
    grant({ id: 'wide', validFrom: '2025-01-01T00:00:00Z', validUntil: '2027-01-01T00:00:00Z' }),
    grant({ id: 'bad', consumer: 'tj.hrss', validUntil: 'not a date' })
  ])), catalog)
  t.match(index.lookup('tj.mca', HOUSEHOLD)?.any[0], { validFrom: Date.parse('2026-01-01T00:00:00Z'), validUntil: Date.parse('2026-12-31T23:59:59Z') })
  t.ok(Number.isNaN(index.lookup('tj.hrss', HOUSEHOLD)?.any[0]?.validUntil))
})

t.test('grants the current catalog cannot serve are skipped, not indexed', async t => {
  const gone = grant({ id: 'gone', resource: 'tj.psb:removed' })
  const hidden = grant({ id: 'hidden', resource: 'tj.psb:hidden' })
  const index = buildPlanIndex(createPlanState(plan([gone, hidden, grant({ id: 'ok' })])), catalog)
  t.equal(index.size, 1)
  t.same(index.skipped, [
    { grant: gone, reason: 'resource tj.psb:removed is no longer in the catalog' },
    { grant: hidden, reason: 'resource tj.psb:hidden is now listed with sharing "none"' }
  ])
  t.equal(index.lookup('tj.mca', 'tj.psb:removed'), undefined)
  t.same(index.grantsFor('tj.mca').map(g => g.id), ['gone', 'hidden', 'ok'], 'the plan\'s grants, as the plan lists them')
})

t.test('a (consumer, resource) with many grants gets a purpose map; a few are checked one by one', async t => {
  const many = Array.from({ length: CROWDED + 2 }, (_, i) => grant({ id: `p${i}`, purposes: [`purpose-${i}`, `shared-${i % 2}`] }))
  const index = buildPlanIndex(createPlanState(plan(many)), catalog)
  const slot = index.lookup('tj.mca', HOUSEHOLD)
  t.ok(slot?.byPurpose)
  if (slot === undefined) return
  t.same(grantsForPurpose(slot, 'purpose-3').map(g => g.grant.id), ['p3'])
  t.same(grantsForPurpose(slot, 'shared-1').map(g => g.grant.id), ['p1', 'p3', 'p5'], 'in plan order')
  t.same(grantsForPurpose(slot, 'none'), [])
  for (const purpose of ['purpose-0', 'shared-0', 'shared-1', 'x']) {
    t.same(grantsForPurpose(slot, purpose), slot.any.filter(g => g.purposes.has(purpose)), `map and scan agree for ${purpose}`)
  }
})

t.test('shared lists: one Set per distinct field or purpose list, one quota object per limits', async t => {
  const index = buildPlanIndex(createPlanState(plan([
    grant({ id: 'a', quota: { perMinute: 5 } }),
    grant({ id: 'b', consumer: 'tj.hrss', quota: { perMinute: 5 } }),
    grant({ id: 'c', consumer: 'tj.x', fields: ['householdAddress', 'name'], quota: { perMinute: 5, perDay: 1 } }),
    grant({ id: 'd', consumer: 'tj.y', fields: ['name'], purposes: ['minimum-living-guarantee-review', 'other'] })
  ])), catalog)
  const [a, b, c, d] = ['tj.mca', 'tj.hrss', 'tj.x', 'tj.y'].map(consumer => index.lookup(consumer, HOUSEHOLD)?.any[0])
  t.equal(a?.fieldSet, b?.fieldSet)
  t.equal(a?.purposes, b?.purposes)
  t.equal(a?.quota, b?.quota)
  t.not(a?.fieldSet, c?.fieldSet, 'the same fields in another order are another list')
  t.same(c?.fields, ['householdAddress', 'name'])
  t.not(a?.quota, c?.quota)
  t.not(a?.fieldSet, d?.fieldSet)
  t.not(a?.purposes, d?.purposes)
  t.same([...(d?.purposes ?? [])], ['minimum-living-guarantee-review', 'other'])
})

// Random plans over the fixture catalog, built at once and in slices: the same index, the same decisions.
const NOW = Date.parse('2026-06-01T00:00:00Z')
const RESOURCES = [HOUSEHOLD, 'tj.psb:public-notices', 'tj.psb:criminal-records', 'tj.psb:hidden', 'tj.psb:removed']
const CONSUMERS = ['tj.mca', 'tj.hrss', 'tj.x']
const PURPOSES = ['review', 'audit', 'statistics', 'other']
const FIELDS = ['name', 'householdAddress', 'idNumber']
const instant = fc.constantFrom(undefined, '2025-06-01T00:00:00Z', '2026-03-01T00:00:00Z', '2026-09-01T00:00:00Z', '2027-06-01T00:00:00Z', 'not a date')
const grantArb = fc.record({
  consumer: fc.constantFrom(...CONSUMERS),
  resource: fc.constantFrom(...RESOURCES),
  fields: fc.uniqueArray(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: 3 }),
  purposes: fc.uniqueArray(fc.constantFrom(...PURPOSES), { minLength: 1, maxLength: 3 }),
  caseRef: fc.boolean(),
  quota: fc.constantFrom(undefined, {}, { perMinute: 5 }, { perDay: 7 }, { perMinute: 5, perDay: 7 }),
  validFrom: instant,
  validUntil: instant
})
const requestArb = fc.record({
  consumer: fc.constantFrom(...CONSUMERS, 'tj.nobody'),
  resourceId: fc.constantFrom(...RESOURCES),
  purpose: fc.constantFrom(...PURPOSES),
  fields: fc.option(fc.uniqueArray(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  caseRef: fc.option(fc.constant('CASE-1'), { nil: undefined }),
  now: fc.constantFrom(NOW, Date.parse('2026-02-01T00:00:00Z'), Date.parse('2026-10-01T00:00:00Z'), Date.parse('2027-01-01T00:00:00Z'))
})

function dump (index: PlanIndex): unknown {
  const out: Record<string, unknown> = { plan: index.plan, size: index.size, skipped: index.skipped.map(s => [s.grant.id, s.reason]) }
  for (const consumer of [...CONSUMERS, 'tj.nobody']) {
    out[consumer] = index.grantsFor(consumer).map(g => g.id)
    for (const resource of RESOURCES) {
      const slot = index.lookup(consumer, resource)
      out[`${consumer} ${resource}`] = slot === undefined
        ? null
        : slot.any.map(g => [g.grant.id, [...g.purposes], g.fields, [...g.fieldSet], g.validFrom, g.validUntil, g.requireCaseRef, g.requireUserId, g.quota])
    }
  }
  return out
}

/** The grants of generated specs (grantArb), ids g0, g1, … */
function grantsOf (specs: Array<typeof grantArb extends fc.Arbitrary<infer S> ? S : never>): Grant[] {
  return specs.map((s, i) => grant({
    id: `g${i}`, consumer: s.consumer, resource: s.resource, fields: s.fields, purposes: s.purposes,
    conditions: { requireCaseRef: s.caseRef, requireUserId: i % 3 === 0 },
    ...(s.quota === undefined ? {} : { quota: s.quota }),
    ...(s.validFrom === undefined ? {} : { validFrom: s.validFrom }),
    ...(s.validUntil === undefined ? {} : { validUntil: s.validUntil })
  }))
}

t.test('built in slices: the same index and the same decisions as built at once', async t => {
  let yields = 0
  let smallYields = 0
  // batches of 1-7 grants and sliceMs 0: slice edges fall everywhere, also inside a crowded (consumer, resource)
  await fc.assert(fc.asyncProperty(fc.array(grantArb, { maxLength: 60 }), fc.array(requestArb, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 7 }), async (specs, requests, batch) => {
    const state = createPlanState(plan(grantsOf(specs)))
    const once = buildPlanIndex(state, catalog)
    const sliced = await buildPlanIndexInSlices(state, catalog, { sliceMs: 0, batch, yieldTo: async () => { smallYields++ } })
    t.same(dump(sliced), dump(once))
    for (const r of requests) {
      const request: AuthorizeRequest = { ...r, zone: 'intranet', userId: 'officer-1', query: { idNumber: '1' } }
      t.same(authorize(sliced, catalog, request), authorize(once, catalog, request))
    }
  }), { numRuns: 150 })
  t.ok(smallYields > 0, `slice edges were crossed (${smallYields} yields)`)
  await fc.assert(fc.asyncProperty(fc.array(grantArb, { maxLength: 60 }), fc.array(requestArb, { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 3 }), async (specs, requests, sliceMs) => {
    const state = createPlanState(plan(grantsOf(specs)))
    const once = buildPlanIndex(state, catalog)
    const sliced = await buildPlanIndexInSlices(state, catalog, { sliceMs, yieldTo: async () => { yields++ } })
    t.same(dump(sliced), dump(once))
    for (const r of requests) {
      const request: AuthorizeRequest = { ...r, zone: 'intranet', userId: 'officer-1', query: { idNumber: '1' } }
      t.same(authorize(sliced, catalog, request), authorize(once, catalog, request))
    }
  }), { numRuns: 150 })
  t.equal(yields, 0, 'small plans are built in one slice')

  // A large plan with sliceMs 0 yields after every batch.
  const big = createPlanState(plan(Array.from({ length: 5000 }, (_, i) => grant({ id: `b${i}`, consumer: `tj.c${i % 700}` }))))
  let turns = 0
  const sliced = await buildPlanIndexInSlices(big, catalog, { sliceMs: 0, yieldTo: async () => { turns++ } })
  t.equal(turns, 4, 'five batches of 1024 grants, a turn between each')
  t.same(dump(sliced), dump(buildPlanIndex(big, catalog)))
  t.equal(sliced.size, 5000)
  const real = await buildPlanIndexInSlices(big, catalog, { sliceMs: 0 })
  t.equal(real.size, 5000, 'yielding through setImmediate')
})
