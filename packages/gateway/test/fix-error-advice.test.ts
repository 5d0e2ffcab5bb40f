// PROTOCOL.md "Errors" and the house rule: every error a caller can meet says
// what to do, not only what is wrong. Each answer below used to stop at the
// problem ("the token has no exp", "tj.nope has no directory", ...).
import t from 'tap'
import { signJwt } from '@govex/core'
import { harness } from './helpers/gateway.js'
import { samplePlan } from './helpers/deployment.js'

t.test('fix-error-advice: refusals say what to do', async t => {
  const h = await harness(t, { activate: false })
  const { mca, auditor } = h.actors
  const now = Math.floor(Date.now() / 1000)
  const signed = (claims: Record<string, unknown>, key = mca.privateJwk): Record<string, string> =>
    ({ authorization: 'Bearer ' + signJwt(key, { iss: 'tj.mca', aud: h.config.gatewayId, iat: now, exp: now + 60, jti: 'j-1', ...claims }) })
  const cases: Array<[string, string, Record<string, string>, RegExp]> = [
    ['not Bearer', '/v1/grants/mine', { authorization: 'Basic abc' }, /not "Bearer <JWT>": send Authorization: Bearer/],
    ['not a JWS', '/v1/grants/mine', { authorization: 'Bearer abc' }, /not a compact JWS .*: send the JWT whole/],
    ['unknown iss', '/v1/grants/mine', signed({ iss: 'tj.nobody' }), /not a registered member: set iss to your member id, or ask the operator to register it/],
    ['unknown kid', '/v1/grants/mine', { authorization: 'Bearer ' + signJwt({ ...mca.privateJwk, kid: 'gone' }, { iss: 'tj.mca', aud: h.config.gatewayId, iat: now, exp: now + 60, jti: 'j-2' }) }, /has no key with kid "gone": sign with a key of its member entry/],
    ['bad signature', '/v1/grants/mine', signed({}, { ...auditor.privateJwk, kid: mca.privateJwk.kid }), /does not verify: sign it with the private key/],
    ['no iat', '/v1/grants/mine', signed({ iat: undefined }), /iat is required: set iat/],
    ['unknown directory', '/v1/directories/tj.nope', mca.auth(), /has no directory: check the agency id .*PUT \/v1\/directories\/tj\.nope/],
    ['unknown disclosure catalog', '/public/disclosures/tj.nope', {}, /has not published a disclosure catalog: check the agency id; GET \/public\/disclosures/]
  ]
  for (const [name, url, headers, advice] of cases) {
    const res = await h.app.inject({ method: 'GET', url, headers })
    t.match(res.json(), { message: advice }, name)
  }

  // a version of a plan that exists
  t.equal((await h.app.inject({ method: 'POST', url: '/v1/plans', headers: h.actors.operator.auth(), payload: samplePlan(1) })).statusCode, 201)
  const res = await h.app.inject({ method: 'GET', url: '/v1/plans/tj-sharing-plan?version=9', headers: auditor.auth() })
  t.match(res.json(), { statusCode: 404, message: /has no version 9: see GET \/v1\/plans/ }, 'unknown version of a known plan')
})
