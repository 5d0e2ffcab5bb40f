import t from 'tap'
import { buildPlanIndex } from '../src/plan/plan-index.js'
import { createPlanState } from '../src/plan/lifecycle.js'
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
  t.same([...mca.byPurpose.keys()], ['review', 'audit', 'other'])
  const first = mca.byPurpose.get('review')?.[0]
  t.equal(mca.byPurpose.get('audit')?.[0], first, 'one object per grant, under each purpose')
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
  t.equal(mca.byPurpose.get('other')?.[0]?.quota?.perDay, 9)

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
