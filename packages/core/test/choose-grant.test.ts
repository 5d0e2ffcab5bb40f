// chooseGrant(): the one reading of PROTOCOL.md's grant checks (validity →
// purpose → fields → conditions), which authorize() runs on the plan index and
// the SDK's can() on grant documents (resourceGrantsOf()). An allowed choice
// is the index's own entry (nothing allocated on the hot path); grants built
// from documents keep their validity within the plan's, as the index does.
import t from 'tap'
import { chooseGrant, isGrantRefusal, resourceGrantsOf, type GrantRequest } from '../src/choose-grant.js'
import { buildPlanIndex } from '../src/plan/plan-index.js'
import { createPlanState } from '../src/plan/lifecycle.js'
import { HOUSEHOLD, catalogFixture, grant, plan } from './helpers/plan-fixtures.js'

const PURPOSE = 'minimum-living-guarantee-review'
const request = (overrides: Partial<GrantRequest> = {}): GrantRequest =>
  ({ consumer: 'tj.mca', resourceId: HOUSEHOLD, purpose: PURPOSE, now: Date.parse('2026-06-01T00:00:00Z'), ...overrides })

t.test('an allowed choice is the plan index\'s own entry', async t => {
  const index = buildPlanIndex(createPlanState(plan([grant({ id: 'g' })])), catalogFixture())
  const grants = index.lookup('tj.mca', HOUSEHOLD)
  const choice = chooseGrant(grants, request({ fields: ['name'] }))
  t.equal(isGrantRefusal(choice), false)
  t.equal(choice, grants?.any[0], 'the same object, not a copy')
})

t.test('no grants: NO_GRANT naming no grant', async t => {
  for (const grants of [undefined, resourceGrantsOf([])]) {
    t.same(chooseGrant(grants, request()), { refused: true, code: 'GOVEX_ERR_NO_GRANT', message: `tj.mca has no active grant for ${HOUSEHOLD}`, grant: undefined })
  }
})

t.test('grant documents: validity defaults to the plan\'s and stays within it', async t => {
  const own = grant({ id: 'own', validFrom: '2025-06-01T00:00:00Z', validUntil: '2026-03-31T23:59:59Z' })
  const none = grant({ id: 'none', purposes: ['other'] })
  const grants = resourceGrantsOf([own, none], { validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-12-31T23:59:59Z' })
  t.same(grants.any.map(g => [g.validFrom, g.validUntil]), [
    [Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-03-31T23:59:59Z')],
    [Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-12-31T23:59:59Z')]
  ])
  const before = chooseGrant(grants, request({ now: Date.parse('2025-12-31T00:00:00Z') }))
  t.match(before, { code: 'GOVEX_ERR_NO_GRANT', grant: own, message: /grant own is valid from 2026-01-01T00:00:00.000Z until 2026-03-31T23:59:59.000Z/ }, 'not before the plan')
  t.equal(chooseGrant(grants, request({ now: Date.parse('2026-02-01T00:00:00Z') })), grants.any[0])
  t.match(chooseGrant(grants, request()), { code: 'GOVEX_ERR_NO_GRANT', grant: own, message: /for purpose minimum-living-guarantee-review now/ }, 'the grant for the purpose expired, another in force')
  t.match(chooseGrant(grants, request({ purpose: 'x' })), { code: 'GOVEX_ERR_PURPOSE_NOT_GRANTED', grant: none, message: /allow other$/ })
  const broken = resourceGrantsOf([grant({ id: 'broken', validUntil: 'not an instant' })])
  t.match(chooseGrant(broken, request()), { code: 'GOVEX_ERR_NO_GRANT', message: /valid from any time until an invalid instant/ }, 'an instant that does not parse closes the window')
})

t.test('fields, then conditions, on the chosen grant', async t => {
  const grants = resourceGrantsOf([grant({ id: 'g', fields: ['name'], conditions: { requireCaseRef: true, requireUserId: true } })])
  t.match(chooseGrant(grants, request({ fields: ['name', 'idNumber'] })), { code: 'GOVEX_ERR_FIELDS_NOT_GRANTED', message: /does not cover field idNumber of .*; it allows name$/ }, 'fields before conditions')
  t.match(chooseGrant(grants, request({ userId: 'u' })), { code: 'GOVEX_ERR_CONDITION_UNMET', message: /requires a caseRef/ })
  t.match(chooseGrant(grants, request({ caseRef: 'c', userId: '' })), { code: 'GOVEX_ERR_CONDITION_UNMET', message: /requires a userId/ })
  const allowed = chooseGrant(grants, request({ caseRef: 'c', userId: 'u' }))
  t.equal(isGrantRefusal(allowed), false)
  t.same(isGrantRefusal(allowed) ? null : allowed.fields, ['name'], 'the grant\'s fields by default')
})
