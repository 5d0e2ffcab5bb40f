// Operations: health, readiness (503 when the stores do not answer), metrics,
// OpenAPI docs, the 404 of unknown routes, and logs that never hold secrets.
import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import { GovexError, openMemoryStores } from '@govex/core'
import { buildGateway } from '../src/index.js'
import { harness, envelope, exchange, expectOk } from './helpers/gateway.js'
import { createDeployment } from './helpers/deployment.js'

t.test('healthz, readyz, metrics, docs, unknown routes', async t => {
  const h = await harness(t)
  t.same(expectOk(await h.app.inject({ method: 'GET', url: '/healthz' })), { status: 'ok' })
  t.same(expectOk(await h.app.inject({ method: 'GET', url: '/readyz' })), { status: 'ready', plan: { id: 'tj-sharing-plan', version: 1 } })

  await exchange(h, 'tj.psb:household-registration', envelope())
  await exchange(h, 'tj.psb:household-registration', envelope({ purpose: 'nope' }))
  const metrics = await h.app.inject({ method: 'GET', url: '/metrics' })
  t.equal(metrics.statusCode, 200)
  t.match(metrics.headers['content-type'], /^text\/plain/)
  t.match(metrics.body, /govex_requests_total\{route="\/v1\/exchange\/:resourceId",method="POST",outcome="allowed",code=""\} 1/)
  t.match(metrics.body, /govex_requests_total\{route="\/v1\/exchange\/:resourceId",method="POST",outcome="denied",code="GOVEX_ERR_PURPOSE_NOT_GRANTED"\} 1/)
  t.match(metrics.body, /govex_upstream_duration_seconds_count\{provider="tj.psb",outcome="ok"\} 1/)
  t.match(metrics.body, /govex_audit_append_duration_seconds_count\{kind="exchange"\} 2/)
  t.match(metrics.body, /govex_active_plan_version\{plan="tj-sharing-plan"\} 1/)

  // A revalidated portal page (304) is an answered request, not a refusal.
  const page = await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.psb' })
  t.equal((await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.psb', headers: { 'if-none-match': page.headers.etag as string } })).statusCode, 304)
  const after = (await h.app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(after, /govex_requests_total\{route="\/public\/disclosures\/:agencyId",method="GET",outcome="allowed",code=""\} 2/)
  t.notMatch(after, /route="\/public\/disclosures\/:agencyId",method="GET",outcome="denied"/)

  const docs = await h.app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(docs.statusCode, 200)
  const openapi = docs.json()
  t.match(openapi.openapi, /^3\./)
  for (const path of ['/v1/exchange/{resourceId}', '/v1/catalog', '/v1/catalog/{resourceId}', '/v1/catalog/lint', '/v1/grants/mine', '/v1/members', '/v1/members/{id}',
    '/v1/directories/{agencyId}', '/v1/plans', '/v1/plans/{id}', '/v1/plans/{id}/digest', '/v1/plans/{id}/approve', '/v1/plans/{id}/activate', '/v1/plans/{id}/revoke',
    '/public/disclosures', '/public/disclosures/{agencyId}', '/v1/disclosures/{agencyId}', '/v1/audit', '/v1/audit/verify', '/v1/audit/export', '/healthz', '/readyz', '/metrics']) {
    t.ok(openapi.paths[path], `documented: ${path}`)
  }
  t.ok(openapi.paths['/v1/exchange/{resourceId}'].post.requestBody, 'the envelope schema is published')
  const receipt = openapi.paths['/v1/directories/{agencyId}'].put.responses['200']?.content?.['application/json']?.schema
  t.same(Object.keys(receipt?.properties ?? {}), ['agency', 'version'], 'PUT directories answers { agency, version }')
  // every route but liveness and metrics may answer 503 GOVEX_ERR_UNAVAILABLE: readyz by design, the others fail closed
  for (const [path, operations] of Object.entries<Record<string, { responses: Record<string, unknown> }>>(openapi.paths)) {
    if (path === '/healthz' || path === '/metrics' || path.startsWith('/docs')) continue
    for (const [method, operation] of Object.entries(operations)) t.ok(operation.responses['503'], `${method} ${path} documents its 503`)
  }
  const ui = await h.app.inject({ method: 'GET', url: '/docs' })
  t.ok(ui.statusCode === 200 || ui.statusCode === 302, 'the docs page')

  for (const [method, url] of [['GET', '/nope'], ['GET', '/v2/exchange'], ['DELETE', '/v1/members/tj.mca'], ['POST', '/healthz']]) {
    const res = await h.app.inject({ method: method as 'GET', url })
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.match(res.json(), { statusCode: 404, code: 'GOVEX_ERR_NOT_FOUND', error: 'Not Found' })
    t.equal(res.json().requestId, res.headers['x-request-id'])
  }
})

t.test('readyz is 503 GOVEX_ERR_UNAVAILABLE when the stores do not answer', async t => {
  const d = await createDeployment()
  const stores = await openMemoryStores({ gatewayId: d.config.gatewayId })
  let down = false
  const ping = stores.ping.bind(stores)
  stores.ping = async () => {
    if (down) throw new GovexError('GOVEX_ERR_UNAVAILABLE', 'redis is down')
    await ping()
  }
  const app = await buildGateway({ config: d.config, stores })
  t.teardown(async () => { await app.close(); await stores.close(); await d.cleanup() })
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  down = true
  const res = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'GOVEX_ERR_UNAVAILABLE')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the process is still up')
  // A ping that never answers is cut at 2 s.
  stores.ping = async () => await new Promise(() => {})
  const started = Date.now()
  const slow = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(slow.statusCode, 503)
  t.ok(Date.now() - started < 2600, 'answered within about 2 s')
})

t.test('a store that fails mid-exchange is a 503 (fail closed), and the process stays up', async t => {
  const d = await createDeployment()
  const stores = await openMemoryStores({ gatewayId: d.config.gatewayId })
  const app = await buildGateway({ config: d.config, stores })
  t.teardown(async () => { await app.close(); await stores.close(); await d.cleanup() })
  const h = { ...d, app }
  const { activatePlan } = await import('./helpers/gateway.js')
  const { samplePlan } = await import('./helpers/deployment.js')
  await activatePlan(h, samplePlan())
  const admit = stores.admit.bind(stores)
  stores.admit = async () => { throw new GovexError('GOVEX_ERR_UNAVAILABLE', 'the replay store is unreachable') }
  let res = await exchange(h, 'tj.psb:household-registration', envelope())
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'GOVEX_ERR_UNAVAILABLE')
  stores.admit = async () => { throw new TypeError('a bug') }
  res = await exchange(h, 'tj.psb:household-registration', envelope())
  t.equal(res.statusCode, 503, 'an unexpected fault fails closed')
  t.notMatch(res.body, /a bug/, 'internals are not shown')
  stores.admit = admit
  res = await exchange(h, 'tj.psb:household-registration', envelope())
  t.equal(res.statusCode, 200)
  const records = (await stores.audit.query({ kind: 'exchange' }, 10)).records
  t.same(records.map(r => r.kind === 'checkpoint' ? null : [r.outcome, r.status]), [['error', 503], ['error', 503], ['allowed', 200]])
})

t.test('logs: JSON, request ids, and no tokens, keys or payloads', async t => {
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(...chunk.toString('utf8').trim().split('\n')); done() } })
  const d = await createDeployment()
  const app = await buildGateway({ config: d.config, logger: pino({ level: 'debug' }, sink) })
  t.teardown(async () => { await app.close(); await d.cleanup() })
  const h = { ...d, app }
  const { activatePlan } = await import('./helpers/gateway.js')
  const { samplePlan } = await import('./helpers/deployment.js')
  await activatePlan(h, samplePlan())
  const token = d.actors.mca.token()
  const body = envelope()
  t.equal((await exchange(h, 'tj.psb:household-registration', body, { authorization: 'Bearer ' + token })).statusCode, 200)
  await exchange(h, 'tj.psb:household-registration', envelope(), { authorization: 'Bearer ' + token.slice(0, -4) + 'AAAA' })
  const all = lines.join('\n')
  t.notMatch(all, token.split('.')[2]!, 'no token in the logs')
  t.notMatch(all, 'Heping District', 'no payload in the logs')
  t.notMatch(all, '120101199001011234', 'no query values in the logs')
  t.notMatch(all, d.actors.gateway.privateJwk.d, 'no key in the logs')
  const parsed = lines.map(l => JSON.parse(l))
  const done = parsed.find(l => l.msg === 'request' && l.reqId === body.id)
  t.match(done, { status: 200, member: 'tj.mca', route: '/v1/exchange/:resourceId' }, 'one line per request, with the envelope id')
  t.ok(parsed.some(l => l.msg === 'authentication failed' && l.code === 'GOVEX_ERR_UNAUTHENTICATED'), 'failed authentication is logged')
})
