import t from 'tap'
import { authorize, zoneServes, type AuthorizeRequest } from '../src/authorize.js'
import { buildPlanIndex, grantsForPurpose } from '../src/plan/plan-index.js'
import { createPlanState } from '../src/plan/lifecycle.js'
import { statusOf } from '../src/codes.js'
import { HOUSEHOLD, catalogFixture, grant, plan } from './helpers/plan-fixtures.js'

const catalog = catalogFixture()
const NOW = Date.parse('2026-06-01T00:00:00Z')
const PURPOSE = 'minimum-living-guarantee-review'

const main = grant({ id: 'mca-household-2026', conditions: { requireCaseRef: true, requireUserId: true }, quota: { perMinute: 600, perDay: 50000 } })
const index = buildPlanIndex(createPlanState(plan([
  main,
  grant({ id: 'mca-notices', resource: 'tj.psb:public-notices', fields: ['name'], purposes: ['publicity'] }),
  grant({ id: 'mca-criminal', resource: 'tj.psb:criminal-records', fields: ['name'], purposes: ['vetting'] }),
  grant({ id: 'hrss-household-spring', consumer: 'tj.hrss', purposes: ['pension'], validFrom: '2026-03-01T00:00:00Z', validUntil: '2026-05-31T23:59:59Z' }),
  grant({ id: 'hrss-household-audit', consumer: 'tj.hrss', purposes: ['audit', 'statistics'], fields: ['name'] }),
  grant({ id: 'hrss-household-late', consumer: 'tj.hrss', purposes: ['late'], validFrom: '2026-09-01T00:00:00Z' })
])), catalog)

function request (overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  return {
    consumer: 'tj.mca',
    resourceId: HOUSEHOLD,
    zone: 'extranet',
    purpose: PURPOSE,
    userId: 'officer-4711',
    caseRef: 'MCA-2026-000123',
    query: { idNumber: '120101199001011234' },
    now: NOW,
    ...overrides
  }
}

t.test('allowed, with the grant\'s fields by default', async t => {
  const result = authorize(index, catalog, request())
  t.match(result, {
    allow: true,
    grant: main,
    fields: ['name', 'householdAddress'],
    entry: catalog.get(HOUSEHOLD),
    plan: { id: 'tj-sharing-plan', version: 3 },
    quota: { perMinute: 600, perDay: 50000 }
  })
  const subset = authorize(index, catalog, request({ fields: ['householdAddress'] }))
  t.match(subset, { allow: true, fields: ['householdAddress'] }, 'requested fields, as requested')
  const unlimited = authorize(index, catalog, request({ resourceId: 'tj.psb:public-notices', purpose: 'publicity', query: undefined }))
  t.match(unlimited, { allow: true, quota: null, fields: ['name'] }, 'no required query, no quota')
})

t.test('NOT_FOUND: unknown resource, checked first', async t => {
  const result = authorize(null, catalog, request({ resourceId: 'tj.psb:nothing', zone: 'extranet' }))
  t.same(result, { allow: false, code: 'GOVEX_ERR_NOT_FOUND', message: 'resource tj.psb:nothing is not in the catalog: see GET /v1/catalog' })
})

t.test('zone matrix', async t => {
  t.equal(zoneServes('extranet', 'public'), true)
  t.equal(zoneServes('extranet', 'internal'), true)
  t.equal(zoneServes('extranet', 'confidential'), false)
  t.equal(zoneServes('intranet', 'public'), true)
  t.equal(zoneServes('intranet', 'internal'), true)
  t.equal(zoneServes('intranet', 'confidential'), true)
  t.equal(zoneServes('dmz' as 'extranet', 'confidential'), false, 'an unknown zone is served like extranet')

  const denied = authorize(index, catalog, request({ resourceId: 'tj.psb:criminal-records', purpose: 'vetting', query: {} }))
  t.match(denied, { allow: false, code: 'GOVEX_ERR_ZONE', message: 'tj.psb:criminal-records is confidential: this extranet gateway does not serve it; call an intranet gateway', entry: catalog.get('tj.psb:criminal-records') })
  t.match(authorize(index, catalog, request({ resourceId: 'tj.psb:criminal-records', purpose: 'vetting', zone: 'intranet' })), { allow: true })
  t.match(authorize(index, catalog, request({ zone: 'intranet' })), { allow: true })
  t.match(authorize(index, catalog, request({ resourceId: 'tj.psb:public-notices', purpose: 'publicity' })), { allow: true })
  t.match(authorize(null, catalog, request({ resourceId: 'tj.psb:criminal-records' })), { code: 'GOVEX_ERR_ZONE' }, 'zone before grant')
})

t.test('NO_GRANT', async t => {
  t.match(authorize(null, catalog, request()), {
    allow: false, code: 'GOVEX_ERR_NO_GRANT', message: 'there is no active sharing plan, so tj.mca has no active grant for tj.psb:household-registration'
  })
  const none = authorize(index, catalog, request({ consumer: 'tj.nobody' }))
  t.same(none, {
    allow: false, code: 'GOVEX_ERR_NO_GRANT', message: 'tj.nobody has no active grant for tj.psb:household-registration',
    entry: catalog.get(HOUSEHOLD), plan: { id: 'tj-sharing-plan', version: 3 }
  })
  t.equal(statusOf('GOVEX_ERR_NO_GRANT'), 403)
  t.match(authorize(index, catalog, request({ resourceId: 'tj.psb:hidden' })), { code: 'GOVEX_ERR_NO_GRANT' })
  // a resource in the catalog but not granted to this consumer (other consumer has it)
  t.match(authorize(index, catalog, request({ consumer: 'tj.hrss', resourceId: 'tj.psb:public-notices', purpose: 'publicity' })), { code: 'GOVEX_ERR_NO_GRANT' })
})

t.test('validity windows: the plan\'s by default, the grant\'s own, inclusive bounds', async t => {
  const planFrom = Date.parse('2026-01-01T00:00:00Z')
  const planUntil = Date.parse('2026-12-31T23:59:59Z')
  t.match(authorize(index, catalog, request({ now: planFrom })), { allow: true }, 'first ms of the plan')
  t.match(authorize(index, catalog, request({ now: planUntil })), { allow: true }, 'last instant of the plan')
  t.match(authorize(index, catalog, request({ now: planFrom - 1 })), {
    allow: false, code: 'GOVEX_ERR_NO_GRANT',
    message: 'tj.mca has no active grant for tj.psb:household-registration now: grant mca-household-2026 is valid from 2026-01-01T00:00:00.000Z until 2026-12-31T23:59:59.000Z',
    grant: main
  })
  t.match(authorize(index, catalog, request({ now: planUntil + 1 })), { code: 'GOVEX_ERR_NO_GRANT' })

  const hrss = (purpose: string, now: number) => authorize(index, catalog, request({ consumer: 'tj.hrss', purpose, now, fields: undefined }))
  t.match(hrss('pension', Date.parse('2026-04-01T00:00:00Z')), { allow: true, grant: { id: 'hrss-household-spring' } })
  t.match(hrss('pension', Date.parse('2026-03-01T00:00:00Z')), { allow: true })
  t.match(hrss('pension', Date.parse('2026-05-31T23:59:59Z')), { allow: true })
  // the grant listing the purpose is outside its window while another grant of the pair is in force:
  // "the grant is outside its validity" is NO_GRANT (PROTOCOL.md), not a purpose refusal
  t.match(hrss('pension', Date.parse('2026-06-01T00:00:00Z')), {
    allow: false, code: 'GOVEX_ERR_NO_GRANT', grant: { id: 'hrss-household-spring' },
    message: 'tj.hrss has no active grant for tj.psb:household-registration for purpose pension now: grant hrss-household-spring is valid from 2026-03-01T00:00:00.000Z until 2026-05-31T23:59:59.000Z'
  })
  t.match(hrss('late', Date.parse('2026-08-31T23:59:59.999Z')), { code: 'GOVEX_ERR_NO_GRANT', message: /grant hrss-household-late is valid from 2026-09-01/ })
  t.match(hrss('late', Date.parse('2026-09-01T00:00:00Z')), { allow: true, grant: { id: 'hrss-household-late' } })
  // nothing of the pair in force: NO_GRANT, naming the grant for the purpose if there is one
  t.match(hrss('pension', Date.parse('2027-02-01T00:00:00Z')), { code: 'GOVEX_ERR_NO_GRANT', message: /now: grant hrss-household-spring is valid/ })
  t.match(hrss('unknown', Date.parse('2027-02-01T00:00:00Z')), { code: 'GOVEX_ERR_NO_GRANT', message: /now: grant hrss-household-spring is valid/, grant: { id: 'hrss-household-spring' } })

  const broken = buildPlanIndex(createPlanState(plan([grant({ id: 'broken', validUntil: 'never' })])), catalog)
  t.match(authorize(broken, catalog, request()), { code: 'GOVEX_ERR_NO_GRANT', message: /valid from 2026-01-01T00:00:00.000Z until an invalid instant/ }, 'an unparsable instant never allows')
})

t.test('PURPOSE_NOT_GRANTED and multi-purpose grants', async t => {
  const result = authorize(index, catalog, request({ purpose: 'curiosity' }))
  t.same(result, {
    allow: false, code: 'GOVEX_ERR_PURPOSE_NOT_GRANTED',
    message: "tj.mca's grants for tj.psb:household-registration do not list purpose curiosity; they allow minimum-living-guarantee-review",
    entry: catalog.get(HOUSEHOLD), grant: main, plan: { id: 'tj-sharing-plan', version: 3 }
  })
  const hrss = (purpose: string) => authorize(index, catalog, request({ consumer: 'tj.hrss', purpose, now: Date.parse('2026-04-01T00:00:00Z') }))
  t.match(hrss('audit'), { allow: true, grant: { id: 'hrss-household-audit' }, fields: ['name'] }, 'each purpose of a multi-purpose grant')
  t.match(hrss('statistics'), { allow: true, grant: { id: 'hrss-household-audit' } })
  t.match(hrss('pension'), { allow: true, grant: { id: 'hrss-household-spring' }, fields: ['name', 'householdAddress'] }, 'the grant listing the purpose is picked')
  t.match(hrss('nope'), { code: 'GOVEX_ERR_PURPOSE_NOT_GRANTED', message: /they allow pension, audit, statistics$/ })
})

t.test('FIELDS_NOT_GRANTED lists the fields outside the grant', async t => {
  t.match(authorize(index, catalog, request({ fields: ['name', 'idNumber'] })), {
    allow: false, code: 'GOVEX_ERR_FIELDS_NOT_GRANTED', grant: main,
    message: 'grant mca-household-2026 does not cover field idNumber of tj.psb:household-registration; it allows name, householdAddress'
  })
  t.match(authorize(index, catalog, request({ fields: ['idNumber', 'name', 'photo'] })), {
    message: 'grant mca-household-2026 does not cover fields idNumber, photo of tj.psb:household-registration; it allows name, householdAddress'
  })
  t.match(authorize(index, catalog, request({ fields: ['photo'], caseRef: undefined })), { code: 'GOVEX_ERR_FIELDS_NOT_GRANTED' }, 'fields before conditions')
})

t.test('CONDITION_UNMET', async t => {
  t.match(authorize(index, catalog, request({ caseRef: undefined })), { allow: false, code: 'GOVEX_ERR_CONDITION_UNMET', message: 'grant mca-household-2026 requires a caseRef: send the case reference in the envelope', grant: main })
  t.match(authorize(index, catalog, request({ caseRef: '' })), { code: 'GOVEX_ERR_CONDITION_UNMET', message: /caseRef/ })
  t.match(authorize(index, catalog, request({ userId: undefined })), { code: 'GOVEX_ERR_CONDITION_UNMET', message: /requires a userId/ })
  t.match(authorize(index, catalog, request({ userId: undefined, caseRef: undefined, query: {} })), { code: 'GOVEX_ERR_CONDITION_UNMET', message: /caseRef/ }, 'conditions before query')
  t.match(authorize(index, catalog, request({ consumer: 'tj.hrss', purpose: 'audit', userId: undefined, caseRef: undefined })), { allow: true }, 'no conditions, none needed')
})

t.test('required query parameters', async t => {
  const missing = { allow: false, code: 'GOVEX_ERR_BAD_REQUEST', message: "tj.psb:household-registration requires query parameter idNumber: add it to the envelope's query", grant: main, problems: [{ code: 'required', path: '/query/idNumber', message: 'is required by the resource' }] }
  t.match(authorize(index, catalog, request({ query: undefined })), missing)
  t.match(authorize(index, catalog, request({ query: {} })), missing)
  t.match(authorize(index, catalog, request({ query: { idNumber: null } })), missing, 'null is absent')
  t.match(authorize(index, catalog, request({ query: Object.create({ idNumber: 'inherited' }) as Record<string, unknown> })), missing, 'own properties only')
  t.match(authorize(index, catalog, request({ query: { idNumber: '', extra: 1 } })), { allow: true }, 'present (even empty) and undeclared keys pass')
  t.equal(statusOf('GOVEX_ERR_BAD_REQUEST'), 400)

  const twoRequired = catalogFixture()
  const entry = twoRequired.get(HOUSEHOLD)
  if (entry === undefined) throw new Error('fixture')
  const stub = { ...twoRequired, get: (id: string) => id === HOUSEHOLD ? { ...entry, requiredQuery: ['idNumber', 'asOf'] } : undefined }
  t.match(authorize(index, stub, request({ query: {} })), { message: "tj.psb:household-registration requires query parameters idNumber, asOf: add them to the envelope's query" })
})

t.test('fail closed on every path: a denial never carries allow', async t => {
  const codes = new Set<string>()
  for (const r of [
    request({ resourceId: 'x:y' }), request({ resourceId: 'tj.psb:criminal-records' }), request({ consumer: 'z' }),
    request({ purpose: 'p' }), request({ fields: ['idNumber'] }), request({ caseRef: undefined }), request({ query: {} })
  ]) {
    const result = authorize(index, catalog, r)
    t.equal(result.allow, false)
    if (!result.allow) codes.add(result.code)
  }
  t.same([...codes], ['GOVEX_ERR_NOT_FOUND', 'GOVEX_ERR_ZONE', 'GOVEX_ERR_NO_GRANT', 'GOVEX_ERR_PURPOSE_NOT_GRANTED', 'GOVEX_ERR_FIELDS_NOT_GRANTED', 'GOVEX_ERR_CONDITION_UNMET', 'GOVEX_ERR_BAD_REQUEST'])
})

t.test('two grants for one purpose (documents that bypassed the rules): the one in force answers', async t => {
  const twice = buildPlanIndex(createPlanState(plan([
    grant({ id: 'h1', validUntil: '2026-06-30T23:59:59Z' }),
    grant({ id: 'h2', validFrom: '2026-07-01T00:00:00Z' })
  ])), catalog)
  const both = twice.lookup('tj.mca', HOUSEHOLD)
  t.equal(both === undefined ? 0 : grantsForPurpose(both, PURPOSE).length, 2)
  t.match(authorize(twice, catalog, request({ now: Date.parse('2026-03-01T00:00:00Z') })), { allow: true, grant: { id: 'h1' } })
  t.match(authorize(twice, catalog, request({ now: Date.parse('2026-08-01T00:00:00Z') })), { allow: true, grant: { id: 'h2' } })
})
