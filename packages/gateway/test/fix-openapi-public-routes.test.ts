// The OpenAPI document (/docs/json) says which routes need a token: the whole
// document asks for a Bearer JWT, so the routes PROTOCOL.md serves without one
// (the public portal, health, readiness, metrics) must say they need none, and
// the portal's revalidation answer (If-None-Match → 304) and readiness's 200
// are documented answers, not surprises.
import t from 'tap'
import { harness } from './helpers/gateway.js'

type Operation = { security?: unknown[], responses: Record<string, unknown> }

t.test('public routes are documented as needing no token; /v1 routes keep the bearer requirement', async t => {
  const h = await harness(t, { activate: false })
  const openapi = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json() as { security: unknown[], paths: Record<string, Record<string, Operation>> }
  t.same(openapi.security, [{ bearer: [] }], 'a token by default')

  const open = ['/public/disclosures', '/public/disclosures/{agencyId}', '/healthz', '/readyz', '/metrics']
  for (const path of open) {
    const get = openapi.paths[path]?.get
    t.same(get?.security, [], `GET ${path} needs no token`)
    // and it really needs none
    const url = path.replace('{agencyId}', 'tj.psb')
    t.equal((await h.app.inject({ method: 'GET', url })).statusCode, 200, `GET ${url} answers without a token`)
  }
  for (const [path, operations] of Object.entries(openapi.paths)) {
    if (!path.startsWith('/v1/')) continue
    for (const [method, operation] of Object.entries(operations)) t.equal(operation.security, undefined, `${method} ${path} needs the token`)
  }

  for (const path of ['/public/disclosures', '/public/disclosures/{agencyId}']) {
    const responses = openapi.paths[path]?.get?.responses ?? {}
    t.ok(responses['200'], `GET ${path} documents its 200`)
    t.ok(responses['304'], `GET ${path} documents the 304 of a current If-None-Match`)
  }
  t.ok(openapi.paths['/readyz']?.get?.responses['200'], 'GET /readyz documents its 200')
})
