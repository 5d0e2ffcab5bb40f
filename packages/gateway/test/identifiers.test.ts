// PROTOCOL.md "Identifiers": every legal id fits in a URL parameter (Fastify's
// maxParamLength raised), so the longest member, resource and plan ids reach
// their routes and are answered there (404 for an unknown one), never refused
// as too long; only something longer than any legal id is a 400.
import t from 'tap'
import { MEMBER_ID_MAX, RESOURCE_ID_MAX, RESOURCE_NAME_MAX, isMemberId, isResourceId } from '@govex/core'
import { harness } from './helpers/gateway.js'

t.test('the longest legal ids reach their routes', async t => {
  const h = await harness(t, { activate: false })
  const { operator, auditor } = h.actors
  const member = 'tj.' + 'a'.repeat(MEMBER_ID_MAX - 3)
  const resource = member + ':' + 'r'.repeat(RESOURCE_NAME_MAX)
  const plan = 'p'.repeat(128)
  t.ok(isMemberId(member) && member.length === MEMBER_ID_MAX)
  t.ok(isResourceId(resource) && resource.length === RESOURCE_ID_MAX)

  const routes: Array<[string, string, Record<string, string>]> = [
    ['GET', `/v1/members/${member}`, operator.auth()],
    ['GET', `/v1/directories/${member}`, auditor.auth()],
    ['GET', `/public/disclosures/${member}`, {}],
    ['GET', `/v1/catalog/${resource}`, auditor.auth()],
    ['GET', `/v1/catalog/${resource.replace(':', '%3A')}`, auditor.auth()],
    ['GET', `/v1/plans/${plan}`, auditor.auth()],
    ['GET', `/v1/plans/${plan}/digest`, operator.auth()],
    ['POST', `/v1/plans/${plan}/activate`, operator.auth()]
  ]
  for (const [method, url, headers] of routes) {
    const res = await h.app.inject({ method: method as 'GET', url, headers })
    t.equal(res.statusCode, 404, `${method} ${url.slice(0, 40)}…`)
    t.equal(res.json().code, 'GOVEX_ERR_NOT_FOUND')
  }

  const tooLong = await h.app.inject({ method: 'GET', url: `/v1/catalog/${resource}${'x'.repeat(100)}`, headers: auditor.auth() })
  t.equal(tooLong.statusCode, 400)
  t.equal(tooLong.json().code, 'GOVEX_ERR_BAD_REQUEST')
})
