// fix-grants-mine-usable: GET /v1/grants/mine tells a consumer what it may
// exchange (PROTOCOL.md "Discovery", X-Road's allowedMethods), and the SDK's
// client.can() dry run decides from it. It listed every grant of the active
// plan, also those whose resource has since left the catalog or been listed
// `sharing: none` — grants authorize() no longer honours — so can() answered
// "allowed" where the gateway answers 404 or 403. Those grants are not listed now.
import t from 'tap'
import { harness, expectOk, envelope, exchange } from './helpers/gateway.js'
import { psbDirectory } from './helpers/deployment.js'

const RESIDENTS = 'tj.psb:residents-by-street'

t.test('grants/mine lists only the grants the gateway honours', async t => {
  const h = await harness(t)
  const mine = async (): Promise<string[]> => (expectOk(await h.app.inject({ method: 'GET', url: '/v1/grants/mine', headers: h.actors.mca.auth() })) as { grants: Array<{ id: string }> }).grants.map(g => g.id)
  const before = await mine()
  t.ok(before.includes('mca-residents'), `listed while its resource is shared (${before.join(', ')})`)

  // the provider now lists the resource with sharing "none"
  const v2 = psbDirectory(h.psb.url)
  v2.version = 2
  v2.resources = v2.resources.map(r => r.id === RESIDENTS ? { ...r, sharing: { type: 'none' as const } } : r)
  expectOk(await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.psb', headers: h.actors.psb.auth(), payload: v2 }))
  const refused = await exchange(h, RESIDENTS, envelope({ purpose: 'street-survey', fields: ['name'] }))
  t.equal(refused.statusCode, 403, 'the gateway refuses an exchange under it')
  t.same(await mine(), before.filter(id => id !== 'mca-residents'), 'and grants/mine no longer lists it')

  // and then drops it from its directory
  const v3 = { ...v2, version: 3, resources: v2.resources.filter(r => r.id !== RESIDENTS) }
  expectOk(await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.psb', headers: h.actors.psb.auth(), payload: v3 }))
  t.equal((await exchange(h, RESIDENTS, envelope({ purpose: 'street-survey', fields: ['name'] }))).statusCode, 404, 'gone from the catalog: 404')
  t.same(await mine(), before.filter(id => id !== 'mca-residents'), 'still not listed')
})
