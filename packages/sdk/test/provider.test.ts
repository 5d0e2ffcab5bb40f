// The provider plugin and verifyGatewayCall accept a genuine gateway call and
// refuse a forged one, an altered body, a wrong aud, an expired token, and a
// token whose claims name other fields than the body.
import t from 'tap'
import Fastify from 'fastify'
import { randomUUID } from 'node:crypto'
import { generateKeyPair, sha256, signJwt, type PrivateJwk } from '@govex/core'
import { govexProvider, verifyGatewayCall, createGatewayVerifier } from '../src/index.js'

const gateway = generateKeyPair('gw-2026')
const other = generateKeyPair('gw-2026')
const providerId = 'tj.psb'
const gatewayId = 'tj.gw.extranet-1'

interface Overrides { aud?: string, iat?: number, exp?: number, iss?: string, digestOf?: string, fields?: string[], claimedFields?: unknown }

function call (key: PrivateJwk, overrides: Overrides = {}, bodyOverride?: string) {
  const requestId = randomUUID()
  const fields = overrides.fields ?? ['name']
  const body = JSON.stringify({ requestId, consumer: 'tj.mca', resource: 'tj.psb:household-registration', purpose: 'review', userId: 'u1', caseRef: null, fields, query: { idNumber: '1' } })
  const iat = overrides.iat ?? Math.floor(Date.now() / 1000)
  const claims: Record<string, unknown> = {
    iss: overrides.iss ?? gatewayId, aud: overrides.aud ?? providerId, iat, exp: overrides.exp ?? iat + 60, jti: requestId,
    resource: 'tj.psb:household-registration', consumer: 'tj.mca', fields: 'claimedFields' in overrides ? overrides.claimedFields : fields, digest: sha256(overrides.digestOf ?? body)
  }
  if (claims.fields === undefined) delete claims.fields
  const token = signJwt(key, claims)
  return { body: bodyOverride ?? body, headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, requestId }
}

async function provider (t: typeof import("tap")["default"]) {
  const app = Fastify()
  await app.register(govexProvider, { providerId, gatewayKeys: [{ gatewayId, key: { kid: gateway.publicJwk.kid, kty: 'OKP', crv: 'Ed25519', x: gateway.publicJwk.x } }] })
  app.post('/household', async request => ({ data: { name: 'Li Wei', seenBy: request.gatewayCall.consumer, fields: request.gatewayCall.fields, requestId: request.gatewayCall.requestId } }))
  t.teardown(() => app.close())
  return app
}

t.test('a genuine gateway call is accepted and decorated', async t => {
  const app = await provider(t)
  const c = call(gateway.privateJwk)
  const res = await app.inject({ method: 'POST', url: '/household', headers: c.headers, payload: c.body })
  t.equal(res.statusCode, 200)
  t.same(res.json().data, { name: 'Li Wei', seenBy: 'tj.mca', fields: ['name'], requestId: c.requestId })
})

const refusals: Array<[string, () => { body: string, headers: Record<string, string> }, RegExp]> = [
  ['a forged call signed by another key', () => call(other.privateJwk), /signature/],
  ['an altered body', () => { const c = call(gateway.privateJwk); return { ...c, body: c.body.replace('"name"]', '"name","idNumber"]') } }, /altered/],
  ['a wrong aud', () => call(gateway.privateJwk, { aud: 'tj.mca' }), /aud/],
  ['an expired token', () => call(gateway.privateJwk, { iat: Math.floor(Date.now() / 1000) - 200, exp: Math.floor(Date.now() / 1000) - 100 }), /expired/],
  ['a token living longer than 60 s', () => call(gateway.privateJwk, { exp: Math.floor(Date.now() / 1000) + 3600 }), /at most 60/],
  ['an unknown issuer', () => call(gateway.privateJwk, { iss: 'tj.gw.rogue' }), /no key/],
  ['no token', () => { const c = call(gateway.privateJwk); return { body: c.body, headers: { 'content-type': 'application/json' } } }, /no gateway token/],
  // fix-provider-verifies-fields: a body asking for more than the gateway signed for, with a digest that matches it
  ['a body with more fields than the token', () => call(gateway.privateJwk, { fields: ['name', 'idNumber'], claimedFields: ['name'] }), /different fields/],
  ['a body with fewer fields than the token', () => call(gateway.privateJwk, { fields: ['name'], claimedFields: ['name', 'idNumber'] }), /different fields/],
  ['the token\'s fields in another order', () => call(gateway.privateJwk, { fields: ['name', 'idNumber'], claimedFields: ['idNumber', 'name'] }), /different fields/],
  ['a token without fields', () => call(gateway.privateJwk, { claimedFields: undefined }), /different fields/],
  ['a token whose fields are not a list', () => call(gateway.privateJwk, { claimedFields: 'name' }), /different fields/]
]

for (const [name, make, reason] of refusals) {
  t.test(`refused: ${name}`, async t => {
    const app = await provider(t)
    const c = make()
    const res = await app.inject({ method: 'POST', url: '/household', headers: c.headers, payload: c.body })
    t.equal(res.statusCode, 401)
    t.equal(res.json().code, 'GOVEX_ERR_UNAUTHENTICATED')
    t.match(res.json().message, reason)
  })
}

t.test('jti must be the body requestId', async t => {
  const requestId = randomUUID()
  const body = JSON.stringify({ requestId: randomUUID(), consumer: 'tj.mca', resource: 'r', purpose: 'p', fields: [], query: {} })
  const iat = Math.floor(Date.now() / 1000)
  const token = signJwt(gateway.privateJwk, { iss: gatewayId, aud: providerId, iat, exp: iat + 60, jti: requestId, resource: 'r', consumer: 'tj.mca', digest: sha256(body) })
  const result = verifyGatewayCall({ authorization: 'Bearer ' + token }, body, { providerId, gatewayKeys: [{ gatewayId, key: gateway.publicJwk }] })
  t.equal(result.ok, false)
  t.match(!result.ok && result.message, /jti/)
})

t.test('framework-free verifier works on raw bytes and checks its options', async t => {
  const verify = createGatewayVerifier({ providerId, gatewayKeys: [{ gatewayId, key: gateway.publicJwk }] })
  const c = call(gateway.privateJwk)
  const ok = verify(c.headers, Buffer.from(c.body))
  t.ok(ok.ok)
  t.equal(ok.ok && ok.call.userId, 'u1')
  t.equal(ok.ok && ok.call.caseRef, null)
  t.throws(() => createGatewayVerifier({ providerId: '', gatewayKeys: [] }), { code: 'GOVEX_ERR_CLIENT_OPTIONS', message: /providerId/ })
  t.throws(() => createGatewayVerifier({ providerId, gatewayKeys: [] }), { code: 'GOVEX_ERR_CLIENT_OPTIONS', message: /gatewayKeys/ })
})

t.test('a body that is not JSON is refused with 400', async t => {
  const app = await provider(t)
  const c = call(gateway.privateJwk)
  const res = await app.inject({ method: 'POST', url: '/household', headers: c.headers, payload: '{nope' })
  t.equal(res.statusCode, 400)
})

// fix-provider-keeps-app-json-parser: the plugin registered its own
// application/json parser, so an app with one (for big numbers, say) could not
// register the plugin at all (FST_ERR_CTP_ALREADY_PRESENT)
t.test('fix-provider-keeps-app-json-parser: an app with its own JSON parser and body limit, on a real socket', async t => {
  for (const where of ['root', 'scope'] as const) {
    const app = Fastify({ bodyLimit: 64 * 1024 })
    t.teardown(() => app.close())
    let parsedByApp = 0
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      parsedByApp++
      done(null, JSON.parse(body as string))
    })
    const routes = async (scope: typeof app): Promise<void> => {
      await scope.register(govexProvider, { providerId, gatewayKeys: [{ gatewayId, key: gateway.publicJwk }] })
      scope.post('/household', async request => ({ data: { name: 'Li Wei', requestId: request.gatewayCall.requestId, query: request.gatewayCall.query } }))
    }
    if (where === 'root') await routes(app)
    else await app.register(routes)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const url = `http://127.0.0.1:${(app.server.address() as import('node:net').AddressInfo).port}/household`
    const c = call(gateway.privateJwk)
    const res = await fetch(url, { method: 'POST', headers: c.headers, body: c.body })
    t.equal(res.status, 200, `${where}: a genuine call is accepted`)
    t.same(await res.json(), { data: { name: 'Li Wei', requestId: c.requestId, query: { idNumber: '1' } } })
    t.equal(parsedByApp, 1, `${where}: the app's own parser parsed the body`)
    const altered = await fetch(url, { method: 'POST', headers: c.headers, body: c.body.replace('"1"', '"2"') })
    t.equal(altered.status, 401, `${where}: the exact bytes are still checked`)
    const big = await fetch(url, { method: 'POST', headers: c.headers, body: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }) })
    t.equal(big.status, 413, `${where}: the app's body limit holds`)
  }
})

// fix-provider-verifies-before-validation: the call was verified in preHandler,
// after the route's schema validation, so a forged call met a 400 that described
// the schema instead of a 401
t.test('fix-provider-verifies-before-validation: a forged call is 401 before the route schema sees it', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  let validatedByApp = 0
  await app.register(govexProvider, { providerId, gatewayKeys: [{ gatewayId, key: gateway.publicJwk }] })
  app.post('/household', {
    schema: { body: { type: 'object', required: ['requestId', 'query'] } },
    preValidation: async () => { validatedByApp++ }
  }, async request => ({ data: { requestId: request.gatewayCall.requestId } }))
  const forged = call(other.privateJwk, {}, JSON.stringify({ nothing: true }))
  const res = await app.inject({ method: 'POST', url: '/household', headers: forged.headers, payload: forged.body })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'GOVEX_ERR_UNAUTHENTICATED')
  t.equal(validatedByApp, 0, 'no hook of the app ran for the forged call')
  const c = call(gateway.privateJwk)
  t.equal((await app.inject({ method: 'POST', url: '/household', headers: c.headers, payload: c.body })).statusCode, 200)
})

// fix-provider-key-checked-eagerly: a key without kid (or a private key, or
// none) was taken as is and every call then failed as "no key known"
t.test('fix-provider-key-checked-eagerly: a gateway key that is no Ed25519 public JWK with a kid is an options error', async t => {
  const { kid: _kid, ...withoutKid } = gateway.publicJwk
  const bad: Array<[string, unknown, RegExp]> = [
    ['no kid', withoutKid, /gatewayKeys\[0\]\.key .*kid/],
    ['a private key', gateway.privateJwk, /public JWK/],
    ['another curve', { ...gateway.publicJwk, crv: 'P-256' }, /crv/],
    ['no key', undefined, /gatewayKeys\[0\]\.key/]
  ]
  for (const [name, key, message] of bad) {
    t.throws(() => createGatewayVerifier({ providerId, gatewayKeys: [{ gatewayId, key } as never] }), { code: 'GOVEX_ERR_CLIENT_OPTIONS', message }, name)
  }
  t.throws(() => createGatewayVerifier({ providerId, gatewayKeys: [{ key: gateway.publicJwk } as never] }), { code: 'GOVEX_ERR_CLIENT_OPTIONS', message: /gatewayKeys\[0\]\.gatewayId/ })
  // a key read from its file (kty typed as string) is accepted
  const fromFile = JSON.parse(JSON.stringify(gateway.publicJwk)) as { kid: string, kty: string, crv: string, x: string }
  const c = call(gateway.privateJwk)
  t.ok(createGatewayVerifier({ providerId, gatewayKeys: [{ gatewayId, key: fromFile }] })(c.headers, c.body).ok)
})

// fix-provider-requires-call-ids: a token without jti, resource or consumer
// matched a body without them, and the call read "undefined"
t.test('fix-provider-requires-call-ids: jti, resource and consumer must be named, in the token and the body', async t => {
  const verify = createGatewayVerifier({ providerId, gatewayKeys: [{ gatewayId, key: gateway.publicJwk }] })
  const iat = Math.floor(Date.now() / 1000)
  const sign = (body: Record<string, unknown>, claims: Record<string, unknown>) => {
    const raw = JSON.stringify(body)
    return verify({ authorization: 'Bearer ' + signJwt(gateway.privateJwk, { iss: gatewayId, aud: providerId, iat, exp: iat + 60, fields: ['name'], digest: sha256(raw), ...claims }) }, raw)
  }
  const id = randomUUID()
  const full = { requestId: id, consumer: 'tj.mca', resource: 'tj.psb:household-registration', purpose: 'review', fields: ['name'], query: {} }
  const claims = { jti: id, resource: full.resource, consumer: full.consumer }
  t.ok(sign(full, claims).ok)
  const cases: Array<[string, keyof typeof full, keyof typeof claims, RegExp]> = [
    ['no request id', 'requestId', 'jti', /jti/],
    ['no resource', 'resource', 'resource', /resources or consumers/],
    ['no consumer', 'consumer', 'consumer', /resources or consumers/]
  ]
  for (const [name, bodyKey, claimKey, message] of cases) {
    const result = sign({ ...full, [bodyKey]: undefined }, { ...claims, [claimKey]: undefined })
    t.equal(result.ok, false, name)
    t.match(!result.ok && result.message, message, name)
  }
  const noPurpose = sign({ ...full, purpose: undefined }, claims)
  t.match(!noPurpose.ok && noPurpose.message, /purpose/)
  const list = sign([] as unknown as Record<string, unknown>, claims)
  t.match(!list.ok && list.message, /not a JSON object/)
})

t.test('a request answered without reading its body (415) leaves the keep-alive connection serving the next', async t => {
  const { request, Agent } = await import('node:http')
  const app = Fastify()
  await app.register(govexProvider, { providerId, gatewayKeys: [{ gatewayId, key: gateway.publicJwk }] })
  app.post('/household', async request => ({ data: { name: 'Zhang San', asked: (request.body as { requestId: string }).requestId } }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(async () => { agent.destroy(); await app.close() })
  const port = (app.server.address() as { port: number }).port
  const send = async (body: string, headers: Record<string, string>): Promise<{ status: number, body: string }> => await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/household', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: text }) })
    })
    req.setTimeout(3000, () => { req.destroy(new Error('no answer within 3 s: the connection is stuck')) })
    req.on('error', reject)
    req.end(body)
  })
  // larger than the socket's buffers, so an unread remainder would stay in the way
  const first = await send('x'.repeat(200_000), { 'content-type': 'text/xml' })
  t.equal(first.status, 415)
  const genuine = call(gateway.privateJwk)
  const second = await send(genuine.body, genuine.headers)
  t.equal(second.status, 200, 'the next request on the same connection is served')
  t.equal(JSON.parse(second.body).data.asked, genuine.requestId)
})
