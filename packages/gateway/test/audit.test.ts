// The auditor's routes: filtered pages with a cursor, strict filter checks,
// the chain check, and the NDJSON export.
import t from 'tap'
import { harness, envelope, exchange, expectOk } from './helpers/gateway.js'

type Page = { records: Array<Record<string, unknown>>, nextCursor: string | null }

t.test('query, page, verify, export', async t => {
  const h = await harness(t)
  const auditor = h.actors.auditor.auth()
  const get = async (url: string): Promise<Page> => expectOk(await h.app.inject({ method: 'GET', url, headers: auditor })) as Page
  for (let i = 0; i < 3; i++) await exchange(h, 'tj.psb:household-registration', envelope())
  await exchange(h, 'tj.psb:household-registration', envelope({ purpose: 'nope', userId: 'officer-9', caseRef: 'CASE-9' }))
  await exchange(h, 'tj.hrss:social-insurance', envelope())

  const all = await get('/v1/audit')
  t.equal(all.nextCursor, null)
  const admin = all.records.filter(r => r.kind === 'admin').length
  t.equal(all.records.length, admin + 5)
  t.equal((await get('/v1/audit?kind=admin')).records.length, admin)
  t.equal((await get('/v1/audit?kind=exchange&outcome=allowed')).records.length, 4)
  t.equal((await get('/v1/audit?outcome=denied')).records.length, 1)
  t.equal((await get('/v1/audit?provider=tj.hrss')).records.length, 1)
  t.equal((await get('/v1/audit?resource=tj.psb:household-registration&consumer=tj.mca')).records.length, 4)
  t.equal((await get('/v1/audit?userId=officer-9')).records.length, 1)
  t.equal((await get('/v1/audit?caseRef=CASE-9')).records.length, 1)
  t.equal((await get('/v1/audit?code=GOVEX_ERR_PURPOSE_NOT_GRANTED')).records.length, 1)
  t.equal((await get('/v1/audit?grantId=mca-insurance')).records.length, 1)
  t.equal((await get('/v1/audit?from=2000-01-01&to=2999-01-01T00:00:00Z')).records.length, all.records.length)
  t.equal((await get('/v1/audit?from=2999-01-01T00:00:00Z')).records.length, 0)

  // Pages of 2 walk the same records in the same order.
  const walked: unknown[] = []
  let page = await get('/v1/audit?kind=exchange&limit=2')
  walked.push(...page.records)
  while (page.nextCursor !== null) {
    page = await get('/v1/audit?kind=exchange&limit=2&cursor=' + encodeURIComponent(page.nextCursor))
    walked.push(...page.records)
  }
  t.same(walked, all.records.filter(r => r.kind === 'exchange'))

  const cursor = (await get('/v1/audit?kind=exchange&limit=1')).nextCursor as string
  const bad = [
    '?colour=red', '?from=yesterday', '?to=2026-13-45', '?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
    '?limit=0', '?limit=1001', '?limit=-1', '?limit=ten', '?limit=1&limit=2', '?outcome=maybe', '?kind=other',
    '?consumer=NOT%20AN%20ID', '?cursor=' + encodeURIComponent(cursor), '?cursor=garbage', '?code=lowercase'
  ]
  for (const query of bad) {
    const res = await h.app.inject({ method: 'GET', url: '/v1/audit' + query + (query.startsWith('?cursor') ? '&kind=admin' : ''), headers: auditor })
    t.equal(res.statusCode, 400, query)
    t.equal(res.json().code, 'GOVEX_ERR_BAD_REQUEST', query)
    t.ok(Array.isArray(res.json().problems), 'problems listed')
  }

  t.same(expectOk(await h.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: auditor })), { ok: true, checked: all.records.length })

  const exported = await h.app.inject({ method: 'GET', url: '/v1/audit/export?kind=exchange', headers: auditor })
  t.equal(exported.statusCode, 200)
  t.match(exported.headers['content-type'], /^application\/x-ndjson/)
  const lines = exported.body.trim().split('\n').map(line => JSON.parse(line))
  t.same(lines, all.records.filter(r => r.kind === 'exchange'))
  t.equal((await h.app.inject({ method: 'GET', url: '/v1/audit/export?limit=5', headers: auditor })).statusCode, 400, 'no limit on export')
  t.equal((await h.app.inject({ method: 'GET', url: '/v1/audit/export?from=nonsense', headers: auditor })).statusCode, 400)
})
