// Members, directories and disclosure catalogs: reads, writes, validation
// (400 schema, 422 rules), ownership, and the admin audit records of writes.
import t from 'tap'
import { digestOf, generateKeyPair } from '@govex/core'
import { harness, envelope, exchange, auditRecords, expectOk } from './helpers/gateway.js'
import { psbDirectory, disclosure } from './helpers/deployment.js'

t.test('members: list, read, create, replace; 404; validation; audit', async t => {
  const h = await harness(t, { activate: false })
  const op = h.actors.operator.auth()
  const list = expectOk(await h.app.inject({ method: 'GET', url: '/v1/members', headers: op })) as { members: Array<{ id: string }> }
  t.same(list.members.map(m => m.id).sort(), ['tj.audit', 'tj.gov', 'tj.gw.test-1', 'tj.hrss', 'tj.it-office', 'tj.mca', 'tj.psb'])
  t.same(expectOk(await h.app.inject({ method: 'GET', url: '/v1/members/tj.mca', headers: op })), h.actors.mca.member)
  const missing = await h.app.inject({ method: 'GET', url: '/v1/members/tj.nobody', headers: op })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'GOVEX_ERR_NOT_FOUND')
  t.equal((await h.app.inject({ method: 'GET', url: '/v1/members/Not.Valid', headers: op })).statusCode, 400)

  const key = generateKeyPair('tax-k1')
  const tax = { id: 'tj.tax', name: 'Tax bureau', roles: ['agency'], keys: [key.publicJwk] }
  t.same(expectOk(await h.app.inject({ method: 'PUT', url: '/v1/members/tj.tax', headers: op, payload: tax })), tax)
  t.same(expectOk(await h.app.inject({ method: 'GET', url: '/v1/members/tj.tax', headers: op })), tax)
  const record = (await auditRecords(h)).at(-1)!
  t.match(record, { kind: 'admin', actor: 'tj.it-office', action: 'member.put', target: 'tj.tax', digest: digestOf(tax), outcome: 'allowed', status: 200, code: null })

  let res = await h.app.inject({ method: 'PUT', url: '/v1/members/tj.other', headers: op, payload: tax })
  t.equal(res.statusCode, 422, 'id in the body differs from the URL')
  t.equal(res.json().code, 'GOVEX_ERR_INVALID_DOCUMENT')
  t.same(res.json().problems.map((p: { path: string }) => p.path), ['/id'])

  res = await h.app.inject({ method: 'PUT', url: '/v1/members/tj.tax', headers: op, payload: { ...tax, roles: ['king'], extra: 1 } })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'GOVEX_ERR_BAD_REQUEST')
  t.ok(res.json().problems.length >= 2, 'every problem')

  res = await h.app.inject({ method: 'PUT', url: '/v1/members/tj.tax', headers: op, payload: { ...tax, keys: [key.publicJwk, key.publicJwk] } })
  t.equal(res.statusCode, 422, 'a MODEL.md rule (duplicate kid)')
  t.equal(res.json().problems[0].code, 'duplicate-kid')

  const refused = (await auditRecords(h)).slice(-3)
  t.same(refused.map(r => [r.action, r.outcome, r.status, r.digest]), [
    ['member.put', 'denied', 422, null], ['member.put', 'denied', 400, null], ['member.put', 'denied', 422, null]
  ], 'refused writes are audited too')

  // The new member can authenticate at once.
  const iat = Math.floor(Date.now() / 1000)
  const { signJwt } = await import('@govex/core')
  const token = signJwt(key.privateJwk, { iss: 'tj.tax', aud: 'tj.gw.test-1', iat, exp: iat + 60, jti: 'x' })
  expectOk(await h.app.inject({ method: 'GET', url: '/v1/grants/mine', headers: { authorization: 'Bearer ' + token } }))
})

t.test('directories: an agency submits its own, an operator any; endpoints hidden from others', async t => {
  const h = await harness(t, { activate: false })
  const { psb, mca, operator, auditor } = h.actors
  const dir = psbDirectory(h.psb.url)
  const v2 = { ...dir, version: 2, resources: dir.resources.slice(0, 2) }
  t.same(expectOk(await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.psb', headers: psb.auth(), payload: v2 })), { agency: 'tj.psb', version: 2 })
  t.match((await auditRecords(h)).at(-1), { action: 'directory.put', actor: 'tj.psb', target: 'tj.psb', digest: digestOf(v2), outcome: 'allowed' })

  let res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.psb', headers: mca.auth(), payload: v2 })
  t.equal(res.statusCode, 403, 'another agency')
  t.equal(res.json().code, 'GOVEX_ERR_FORBIDDEN_ROLE')
  t.match((await auditRecords(h)).at(-1), { action: 'directory.put', actor: 'tj.mca', outcome: 'denied', code: 'GOVEX_ERR_FORBIDDEN_ROLE', status: 403 })

  expectOk(await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.psb', headers: operator.auth(), payload: { ...v2, version: 3 } }))
  res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.psb', headers: psb.auth(), payload: { ...v2, version: 1 } })
  t.equal(res.statusCode, 409, 'an older version')
  t.equal(res.json().code, 'GOVEX_ERR_CONFLICT')

  res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.psb', headers: psb.auth(), payload: { ...v2, version: 4, agency: 'tj.mca' } })
  t.equal(res.statusCode, 422, 'agency differs from the URL')

  res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.psb', headers: psb.auth(), payload: { ...v2, version: 4, resources: [{ ...v2.resources[0]!, id: 'tj.mca:stolen' }] } })
  t.equal(res.statusCode, 422, 'a MODEL.md rule: resource ids are prefixed by the agency')
  t.equal(res.json().problems[0].code, 'resource-not-prefixed')

  res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.psb', headers: psb.auth(), payload: { ...v2, version: 4, resources: [{ ...v2.resources[0]!, endpoint: { url: 'http://10.9.9.9/x' } }] } })
  t.equal(res.statusCode, 422, 'an endpoint outside upstream.allowHosts')
  t.equal(res.json().problems[0].code, 'endpoint-host-not-allowed')

  res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.psb', headers: psb.auth(), payload: { agency: 'tj.psb' } })
  t.equal(res.statusCode, 400, 'schema')

  res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.tax', headers: operator.auth(), payload: { agency: 'tj.tax', version: 1, resources: [] } })
  t.equal(res.statusCode, 422, 'not a registered agency')

  // Reads: endpoints for operators and the agency itself only.
  const own = expectOk(await h.app.inject({ method: 'GET', url: '/v1/directories/tj.psb', headers: psb.auth() })) as { version: number, resources: Array<Record<string, unknown>> }
  t.equal(own.version, 3)
  t.ok(own.resources.every(r => 'endpoint' in r))
  const other = expectOk(await h.app.inject({ method: 'GET', url: '/v1/directories/tj.psb', headers: auditor.auth() })) as { resources: Array<Record<string, unknown>> }
  t.ok(other.resources.every(r => !('endpoint' in r)), 'no endpoints for others')
  t.equal((await h.app.inject({ method: 'GET', url: '/v1/directories/tj.mca', headers: auditor.auth() })).statusCode, 404)

  // The catalog follows at once.
  const catalog = expectOk(await h.app.inject({ method: 'GET', url: '/v1/catalog?provider=tj.psb', headers: mca.auth() })) as { resources: Array<{ id: string }> }
  t.same(catalog.resources.map(r => r.id), ['tj.psb:household-registration', 'tj.psb:residents-by-street'])
})

t.test('a submitted document that breaks rules and does not fit its URL gets one 422 listing every problem', async t => {
  const h = await harness(t, { activate: false })
  const op = h.actors.operator.auth()
  const dir = psbDirectory(h.psb.url)
  // a rule broken (a resource not prefixed by the agency), the agency unlike the URL's, and the URL's agency unregistered
  const broken = { ...dir, version: 5, resources: [{ ...dir.resources[0]!, id: 'tj.mca:stolen' }] }
  let res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.tax', headers: op, payload: broken })
  t.equal(res.statusCode, 422)
  t.equal(res.json().code, 'GOVEX_ERR_INVALID_DOCUMENT')
  t.same(res.json().problems.map((p: { code: string }) => p.code).sort(), ['id-mismatch', 'resource-not-prefixed', 'unknown-agency'])
  t.match(res.json().message, /3 problems/)
  t.match((await auditRecords(h)).at(-1), { action: 'directory.put', target: 'tj.tax', outcome: 'denied', code: 'GOVEX_ERR_INVALID_DOCUMENT', status: 422 })

  // the two that depend on the URL together, the document itself valid
  res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.tax', headers: op, payload: { ...dir, version: 5 } })
  t.same(res.json().problems.map((p: { code: string }) => p.code), ['id-mismatch', 'unknown-agency'])

  // alone, each keeps its own message
  res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.mca', headers: op, payload: { ...dir, version: 5 } })
  t.equal(res.statusCode, 422)
  t.match(res.json().message, /says tj\.psb but the URL names tj\.mca/)
  res = await h.app.inject({ method: 'PUT', url: '/v1/disclosures/tj.tax', headers: op, payload: { ...disclosure('tj.tax') } })
  t.match(res.json(), { statusCode: 422, message: /tj\.tax is not a registered agency/, problems: [{ code: 'unknown-agency' }] })

  // disclosures and members the same way
  res = await h.app.inject({ method: 'PUT', url: '/v1/disclosures/tj.tax', headers: op, payload: disclosure('tj.psb') })
  t.same(res.json().problems.map((p: { code: string }) => p.code), ['id-mismatch', 'unknown-agency'])
  const key = generateKeyPair('tax-k1')
  res = await h.app.inject({ method: 'PUT', url: '/v1/members/tj.other', headers: op, payload: { id: 'tj.tax', name: 'Tax', roles: ['agency'], keys: [key.publicJwk, key.publicJwk] } })
  t.same(res.json().problems.map((p: { code: string }) => p.code).sort(), ['duplicate-kid', 'id-mismatch'])

  // a schema failure is still answered alone, as 400
  res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.tax', headers: op, payload: { agency: 'tj.psb' } })
  t.equal(res.statusCode, 400)
})

t.test('catalog: search, one resource, lint, endpoints', async t => {
  const h = await harness(t)
  const { mca, psb, operator } = h.actors
  type Listing = { resources: Array<Record<string, unknown>> }
  const all = expectOk(await h.app.inject({ method: 'GET', url: '/v1/catalog', headers: mca.auth() })) as Listing
  t.equal(all.resources.length, 4)
  t.ok(all.resources.every(r => !('endpoint' in r)), 'no endpoints for a consumer')
  const byOp = expectOk(await h.app.inject({ method: 'GET', url: '/v1/catalog', headers: operator.auth() })) as Listing
  t.ok(byOp.resources.every(r => 'endpoint' in r))
  const byPsb = expectOk(await h.app.inject({ method: 'GET', url: '/v1/catalog', headers: psb.auth() })) as Listing
  t.same(byPsb.resources.map(r => 'endpoint' in r), [false, true, true, true], 'the provider sees its own endpoints only')

  const q = expectOk(await h.app.inject({ method: 'GET', url: '/v1/catalog?q=RESIDENCE%20natural', headers: mca.auth() })) as Listing
  t.same(q.resources.map(r => r.id), ['tj.psb:household-registration'])
  const c = expectOk(await h.app.inject({ method: 'GET', url: '/v1/catalog?classification=departmental', headers: mca.auth() })) as Listing
  t.same(c.resources.map(r => r.id), ['tj.psb:case-files'])

  for (const bad of ['?provider=NOT%20AN%20ID', '?q=', '?unknown=1', '?q=a&q=b', '?q=' + 'x'.repeat(300)]) {
    const res = await h.app.inject({ method: 'GET', url: '/v1/catalog' + bad, headers: mca.auth() })
    t.equal(res.statusCode, 400, bad)
    t.equal(res.json().code, 'GOVEX_ERR_BAD_REQUEST')
  }

  const one = expectOk(await h.app.inject({ method: 'GET', url: '/v1/catalog/tj.psb:household-registration', headers: mca.auth() })) as Record<string, unknown>
  t.equal(one.id, 'tj.psb:household-registration')
  t.notOk('endpoint' in one)
  t.equal((await h.app.inject({ method: 'GET', url: '/v1/catalog/tj.psb:none', headers: mca.auth() })).statusCode, 404)

  const lint = expectOk(await h.app.inject({ method: 'GET', url: '/v1/catalog/lint', headers: operator.auth() })) as { findings: Array<{ code: string, resources: string[] }> }
  const duplicate = lint.findings.find(f => f.code === 'duplicate-item')
  t.ok(duplicate, '"name" (basic:population) is offered by two agencies')
  t.same(duplicate?.resources.sort(), ['tj.hrss:social-insurance', 'tj.psb:household-registration', 'tj.psb:residents-by-street'])
})

t.test('grants/mine: the caller\'s grants with their validity', async t => {
  const h = await harness(t)
  const mine = expectOk(await h.app.inject({ method: 'GET', url: '/v1/grants/mine', headers: h.actors.mca.auth() })) as { consumer: string, plan: unknown, grants: Array<Record<string, unknown>> }
  t.equal(mine.consumer, 'tj.mca')
  t.same(mine.plan, { id: 'tj-sharing-plan', version: 1 })
  t.same(mine.grants.map(g => g.id), ['mca-household', 'mca-residents', 'mca-insurance', 'mca-household-expired'])
  t.match(mine.grants[0], { fields: ['name', 'householdAddress'], conditions: { requireCaseRef: true }, validFrom: '2020-01-01T00:00:00Z', validUntil: '2099-12-31T23:59:59Z' })
  t.match(mine.grants[2], { quota: { perMinute: 2 } })
  const none = expectOk(await h.app.inject({ method: 'GET', url: '/v1/grants/mine', headers: h.actors.hrss.auth() })) as { grants: unknown[] }
  t.same(none.grants, [])
})

t.test('disclosures: publish own or as operator; public reads follow', async t => {
  const h = await harness(t, { activate: false })
  const { psb, mca, operator } = h.actors
  const catalog = disclosure('tj.mca')
  let res = await h.app.inject({ method: 'PUT', url: '/v1/disclosures/tj.mca', headers: psb.auth(), payload: catalog })
  t.equal(res.statusCode, 403)
  t.same(expectOk(await h.app.inject({ method: 'PUT', url: '/v1/disclosures/tj.mca', headers: mca.auth(), payload: catalog })), { agency: 'tj.mca', entries: 2 })
  t.match((await auditRecords(h)).at(-1), { action: 'disclosure.put', actor: 'tj.mca', target: 'tj.mca', digest: digestOf(catalog) })
  expectOk(await h.app.inject({ method: 'PUT', url: '/v1/disclosures/tj.psb', headers: operator.auth(), payload: disclosure('tj.psb') }))
  res = await h.app.inject({ method: 'PUT', url: '/v1/disclosures/tj.mca', headers: mca.auth(), payload: { ...catalog, entries: [{ category: 'gossip', title: 'x', publishedAt: '2026-01-01' }] } })
  t.equal(res.statusCode, 400)
  res = await h.app.inject({ method: 'PUT', url: '/v1/disclosures/tj.mca', headers: mca.auth(), payload: { ...catalog, entries: [{ category: 'emergencies', title: 'x', publishedAt: '2026-01-01', url: 'javascript:alert(1)' }] } })
  t.equal(res.statusCode, 422)
  // only registered agencies publish: not an auditor, not a stranger
  for (const id of ['tj.audit', 'tj.nobody']) {
    res = await h.app.inject({ method: 'PUT', url: `/v1/disclosures/${id}`, headers: operator.auth(), payload: disclosure(id) })
    t.equal(res.statusCode, 422, id)
    t.equal(res.json().code, 'GOVEX_ERR_INVALID_DOCUMENT')
  }
  t.equal((await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.nobody' })).statusCode, 404)
  const pub = expectOk(await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.mca' }))
  t.same(pub, catalog)
  // an exchange is unaffected
  t.equal((await exchange(h, 'tj.psb:household-registration', envelope())).json().code, 'GOVEX_ERR_NO_GRANT')
})
