// Authentication (PROTOCOL.md "Authentication"), for both verification paths:
// every bad token is a 401 GOVEX_ERR_UNAUTHENTICATED, logged and not audited.
import t from 'tap'
import { createHmac, randomUUID } from 'node:crypto'
import { b64url, generateKeyPair, signJwt } from '@govex/core'
import { harness, envelope, exchange, auditRecords, expectOk } from './helpers/gateway.js'
import { GATEWAY_ID } from './helpers/deployment.js'
import type { Harness } from './helpers/gateway.js'
import type { AuthMode } from '../src/index.js'

function unsigned (header: object, claims: object): string {
  return b64url(JSON.stringify(header)) + '.' + b64url(JSON.stringify(claims))
}

function claims (iss: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000)
  return { iss, aud: GATEWAY_ID, iat, exp: iat + 60, jti: randomUUID(), ...extra }
}

for (const mode of ['lean', 'fastify-jwt'] as AuthMode[]) {
  t.test(`${mode}: bad tokens`, async t => {
    const h: Harness = await harness(t, { auth: mode, config: raw => { raw.audience = 'tj.gw.pool' } })
    const mca = h.actors.mca
    const before = (await auditRecords(h)).length
    const now = Math.floor(Date.now() / 1000)
    const hs256 = unsigned({ alg: 'HS256', typ: 'JWT' }, claims('tj.mca'))
    const otherKey = generateKeyPair(mca.publicJwk.kid).privateJwk

    const bad: Array<[string, Record<string, string>]> = [
      ['no authorization header', {}],
      ['not Bearer', { authorization: 'Basic dG9tOnB3' }],
      ['Bearer without a token', { authorization: 'Bearer ' }],
      ['garbage', { authorization: 'Bearer not.a.jwt' }],
      ['alg none', { authorization: 'Bearer ' + unsigned({ alg: 'none' }, claims('tj.mca')) + '.' }],
      ['HS256 with the public key as secret', { authorization: 'Bearer ' + hs256 + '.' + createHmac('sha256', mca.publicJwk.x).update(hs256).digest('base64url') }],
      // an RS256-sized signature (2048-bit): the alg is refused whatever the bytes, so no RSA key is generated for them
      ['RS256', { authorization: 'Bearer ' + unsigned({ alg: 'RS256' }, claims('tj.mca')) + '.' + b64url(new Uint8Array(256).fill(0xa5)) }],
      ['wrong key, same kid', { authorization: 'Bearer ' + signJwt(otherKey, claims('tj.mca')) }],
      ['unknown iss', { authorization: 'Bearer ' + signJwt(mca.privateJwk, claims('tj.nobody')) }],
      ['unknown kid', { authorization: 'Bearer ' + signJwt({ ...mca.privateJwk, kid: 'other' }, claims('tj.mca')) }],
      ['expired', { authorization: 'Bearer ' + signJwt(mca.privateJwk, claims('tj.mca', { iat: now - 400, exp: now - 100 })) }],
      ['issued in the future', { authorization: 'Bearer ' + signJwt(mca.privateJwk, claims('tj.mca', { iat: now + 120, exp: now + 300 })) }],
      ['lives longer than 300 s', { authorization: 'Bearer ' + signJwt(mca.privateJwk, claims('tj.mca', { iat: now, exp: now + 301 })) }],
      ['wrong aud', { authorization: 'Bearer ' + signJwt(mca.privateJwk, claims('tj.mca', { aud: 'tj.gw.other' })) }],
      ['no aud', { authorization: 'Bearer ' + signJwt(mca.privateJwk, claims('tj.mca', { aud: undefined })) }],
      ['no jti', { authorization: 'Bearer ' + signJwt(mca.privateJwk, claims('tj.mca', { jti: undefined })) }],
      ['no iat', { authorization: 'Bearer ' + signJwt(mca.privateJwk, claims('tj.mca', { iat: undefined })) }],
      ['another member\'s key', { authorization: 'Bearer ' + signJwt(h.actors.psb.privateJwk, claims('tj.mca')) }],
      ['a tampered payload', { authorization: 'Bearer ' + (() => { const [hd, , sig] = mca.token().split('.'); return `${hd}.${b64url(JSON.stringify(claims('tj.psb')))}.${sig}` })() }]
    ]
    for (const [name, headers] of bad) {
      const body = envelope()
      const res = await exchange(h, 'tj.psb:household-registration', body, headers)
      t.equal(res.statusCode, 401, name)
      const error = res.json()
      t.equal(error.code, 'GOVEX_ERR_UNAUTHENTICATED', name)
      t.equal(error.error, 'Unauthorized')
      t.type(error.message, 'string')
      t.equal(res.headers['x-request-id'], error.requestId)
    }
    t.equal((await auditRecords(h)).length, before, 'failed authentication is not audited')
    t.equal(h.psb.received.length, 0)

    // Good tokens: the audience pool, an array aud, a token reused until it expires.
    const reused = mca.auth({ aud: 'tj.gw.pool' })
    t.equal((await exchange(h, 'tj.psb:household-registration', envelope(), reused)).statusCode, 200, 'aud = audience')
    t.equal((await exchange(h, 'tj.psb:household-registration', envelope(), reused)).statusCode, 200, 'the same token again')
    t.equal((await exchange(h, 'tj.psb:household-registration', envelope(), mca.auth({ aud: ['x.y', GATEWAY_ID] }))).statusCode, 200, 'aud array')
    t.equal((await exchange(h, 'tj.psb:household-registration', envelope(), mca.auth({ iat: now + 20, exp: now + 80 }))).statusCode, 200, 'iat within the skew')
    expectOk(await h.app.inject({ method: 'GET', url: '/v1/catalog', headers: { authorization: 'bearer ' + mca.token() } }))
  })

  t.test(`${mode}: key rotation and removal take effect at once`, async t => {
    const h = await harness(t, { auth: mode })
    const mca = h.actors.mca
    const token = mca.auth()
    expectOk(await h.app.inject({ method: 'GET', url: '/v1/grants/mine', headers: token }))
    const next = generateKeyPair('mca-k2')
    // Two keys: a token must now name its kid (it does: signJwt sets it).
    expectOk(await h.app.inject({ method: 'PUT', url: '/v1/members/tj.mca', headers: h.actors.operator.auth(), payload: { ...mca.member, keys: [mca.publicJwk, next.publicJwk] } }))
    expectOk(await h.app.inject({ method: 'GET', url: '/v1/grants/mine', headers: token }))
    const noKid = 'Bearer ' + (() => {
      const input = b64url(JSON.stringify({ alg: 'EdDSA' })) + '.' + b64url(JSON.stringify(claims('tj.mca')))
      return signJwt(next.privateJwk, {}).split('.').length === 3 ? input + '.' + signJwt(next.privateJwk, claims('tj.mca')).split('.')[2] : input
    })()
    t.equal((await h.app.inject({ method: 'GET', url: '/v1/grants/mine', headers: { authorization: noKid } })).statusCode, 401, 'no kid with two keys')
    // Remove the old key: the cached token stops working.
    expectOk(await h.app.inject({ method: 'PUT', url: '/v1/members/tj.mca', headers: h.actors.operator.auth(), payload: { ...mca.member, keys: [next.publicJwk] } }))
    t.equal((await h.app.inject({ method: 'GET', url: '/v1/grants/mine', headers: token })).statusCode, 401, 'the removed key no longer authenticates')
    const iat = Math.floor(Date.now() / 1000)
    const fresh = signJwt(next.privateJwk, { iss: 'tj.mca', aud: GATEWAY_ID, iat, exp: iat + 60, jti: randomUUID() })
    expectOk(await h.app.inject({ method: 'GET', url: '/v1/grants/mine', headers: { authorization: 'Bearer ' + fresh } }))
  })
}

t.test('roles: each route refuses members without its role (403, coded)', async t => {
  const h = await harness(t)
  const { mca, operator, approver, auditor, gateway } = h.actors
  const refusals: Array<[string, string, Record<string, string>, unknown?]> = [
    ['GET', '/v1/members', mca.auth()],
    ['GET', '/v1/members/tj.mca', approver.auth()],
    ['PUT', '/v1/members/tj.mca', mca.auth(), mca.member],
    ['GET', '/v1/catalog/lint', auditor.auth()],
    ['POST', '/v1/plans', approver.auth(), {}],
    ['GET', '/v1/plans', mca.auth()],
    ['GET', '/v1/plans/tj-sharing-plan', gateway.auth()],
    ['GET', '/v1/plans/tj-sharing-plan/digest', auditor.auth()],
    ['POST', '/v1/plans/tj-sharing-plan/approve', operator.auth(), { signature: 'x..y' }],
    ['POST', '/v1/plans/tj-sharing-plan/activate', approver.auth()],
    ['POST', '/v1/plans/tj-sharing-plan/revoke', mca.auth()],
    ['GET', '/v1/audit', operator.auth()],
    ['GET', '/v1/audit/verify', mca.auth()],
    ['GET', '/v1/audit/export', approver.auth()],
    ['PUT', '/v1/directories/tj.psb', mca.auth(), {}],
    ['PUT', '/v1/directories/tj.psb', auditor.auth(), {}],
    ['PUT', '/v1/disclosures/tj.psb', mca.auth(), {}],
    ['POST', '/v1/exchange/tj.psb:household-registration', auditor.auth(), envelope()]
  ]
  for (const [method, url, headers, payload] of refusals) {
    const res = await h.app.inject({ method: method as 'GET', url, headers, payload: payload as object })
    t.equal(res.statusCode, 403, `${method} ${url}`)
    t.equal(res.json().code, 'GOVEX_ERR_FORBIDDEN_ROLE', `${method} ${url}`)
  }
  // Reads any member may make.
  for (const url of ['/v1/catalog', '/v1/catalog/tj.psb:household-registration', '/v1/grants/mine', '/v1/directories/tj.psb']) {
    t.equal((await h.app.inject({ method: 'GET', url, headers: auditor.auth() })).statusCode, 200, url)
  }
  // Unauthenticated: every /v1 route is 401 before anything else.
  for (const [method, url] of refusals) {
    const res = await h.app.inject({ method: method as 'GET', url })
    t.equal(res.statusCode, 401, `${method} ${url} without a token`)
  }
})
