// Security cases, end to end through the gateway: forged and misdirected
// tokens, role escalation, documents that overreach, path traversal, header
// injection into the forwarded call, SSRF through endpoints and redirects,
// oversized and duplicated headers, and prototype-pollution keys in every JSON
// body. Server timeouts against slow clients: fix-slowloris-timeouts.test.ts.
import t from 'tap'
import { createHmac, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { openMemoryStores, signJwt } from '@govex/core'
import type { Directory } from '@govex/core'
import { harness, envelope, exchange, auditRecords } from '../packages/gateway/test/helpers/gateway.js'
import type { Harness } from '../packages/gateway/test/helpers/gateway.js'
import { GATEWAY_ID, PURPOSE, hrssDirectory, samplePlan } from '../packages/gateway/test/helpers/deployment.js'
import { injectedAnswer, prototypeClean } from './helpers/answers.js'

const HOUSEHOLD = 'tj.psb:household-registration'

function b64url (value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
}

function claims (overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000)
  return { iss: 'tj.mca', aud: GATEWAY_ID, iat, exp: iat + 120, jti: randomUUID(), ...overrides }
}

async function call (h: Harness, token: string, url = '/v1/grants/mine'): Promise<{ statusCode: number, code: string }> {
  const res = await h.app.inject({ method: 'GET', url, headers: { authorization: 'Bearer ' + token } })
  const bad = injectedAnswer(res)
  if (bad !== null) throw new Error(bad)
  return { statusCode: res.statusCode, code: res.statusCode === 200 ? 'ok' : (res.json() as { code: string }).code }
}

t.test('tokens: alg confusion, kid of another member, another gateway, times', async t => {
  const h = await harness(t)
  const { mca, psb } = h.actors
  const unauthenticated = { statusCode: 401, code: 'GOVEX_ERR_UNAUTHENTICATED' }
  t.same(await call(h, mca.token()), { statusCode: 200, code: 'ok' }, 'a good token works')

  // HS256 with the member's public key as the HMAC secret (the classic confusion), in several spellings.
  for (const secret of [mca.publicJwk.x, JSON.stringify(mca.publicJwk), Buffer.from(mca.publicJwk.x, 'base64url')]) {
    for (const header of [{ alg: 'HS256', typ: 'JWT' }, { alg: 'HS256', kid: mca.publicJwk.kid }]) {
      const signing = b64url(header) + '.' + b64url(claims())
      const token = signing + '.' + createHmac('sha256', secret).update(signing).digest('base64url')
      t.same(await call(h, token), unauthenticated, 'HS256 signed with the public key')
    }
  }
  for (const alg of ['none', 'None', 'NONE', 'ES256', 'RS256', 'EdDSA ']) {
    t.same(await call(h, b64url({ alg, kid: mca.publicJwk.kid }) + '.' + b64url(claims()) + '.'), unauthenticated, `alg ${alg}`)
  }
  const real = mca.token().split('.')
  t.same(await call(h, b64url({ alg: 'none' }) + '.' + real[1] + '.' + real[2]), unauthenticated, 'a real signature under alg none')
  t.same(await call(h, real[0] + '.' + b64url(claims({ iss: 'tj.it-office' })) + '.' + real[2]), unauthenticated, 'claims swapped under a real signature')

  // kid naming another member's key: signed by psb, claiming to be mca.
  t.same(await call(h, signJwt({ ...psb.privateJwk }, claims({ iss: 'tj.mca' }))), unauthenticated, 'iss mca signed with psb key (psb kid)')
  t.same(await call(h, signJwt({ ...psb.privateJwk, kid: mca.publicJwk.kid }, claims({ iss: 'tj.mca' }))), unauthenticated, 'psb key under mca kid')
  t.same(await call(h, signJwt({ ...mca.privateJwk, kid: psb.publicJwk.kid }, claims())), unauthenticated, 'mca key with psb kid')
  t.same(await call(h, signJwt({ ...mca.privateJwk, kid: '../tj.psb-k1' }, claims())), unauthenticated, 'kid path traversal')
  t.same(await call(h, signJwt({ ...mca.privateJwk, kid: '__proto__' }, claims())), unauthenticated, 'kid __proto__')

  // Addressed elsewhere, or outside its time.
  t.same(await call(h, mca.token({ aud: 'tj.gw.other' })), unauthenticated, 'token for another gateway')
  t.same(await call(h, mca.token({ aud: [GATEWAY_ID + 'x'] })), unauthenticated, 'aud array of other gateways')
  const now = Math.floor(Date.now() / 1000)
  t.same(await call(h, mca.token({ iat: now - 400, exp: now - 100 })), unauthenticated, 'expired')
  t.same(await call(h, mca.token({ iat: now + 120, exp: now + 300 })), unauthenticated, 'not yet valid (iat in the future)')
  t.same(await call(h, mca.token({ nbf: now + 120 })), unauthenticated, 'nbf in the future')
  t.same(await call(h, mca.token({ iat: now, exp: now + 3600 })), unauthenticated, 'lives longer than 300 s')
  t.same(await call(h, mca.token({ iss: 'tj.nobody' })), unauthenticated, 'unknown iss')
  for (const garbage of ['', 'a', 'a.b', 'a.b.c', '..', '...', 'x'.repeat(10_000), real.join('.') + '.extra']) {
    t.same(await call(h, garbage), unauthenticated, `garbage token ${garbage.slice(0, 12)}`)
  }
})

t.test('role escalation and overreaching documents', async t => {
  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID })
  t.teardown(async () => { await stores.close() })
  const h = await harness(t, { stores })
  const { mca, hrss, psb, approver, auditor, operator } = h.actors
  const forbidden = async (method: 'GET' | 'PUT' | 'POST', url: string, headers: Record<string, string>, payload?: unknown): Promise<void> => {
    const res = await h.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) })
    t.equal(res.statusCode, 403, `${method} ${url}: ${res.body.slice(0, 120)}`)
    t.equal(res.json().code, 'GOVEX_ERR_FORBIDDEN_ROLE')
  }
  // agency → operator routes
  await forbidden('GET', '/v1/members', mca.auth())
  await forbidden('PUT', '/v1/members/tj.mca', mca.auth(), { ...mca.member, roles: ['agency', 'operator'] })
  await forbidden('POST', '/v1/plans', mca.auth(), samplePlan(5))
  await forbidden('POST', '/v1/plans/tj-sharing-plan/activate', mca.auth())
  await forbidden('POST', '/v1/plans/tj-sharing-plan/revoke', mca.auth())
  await forbidden('GET', '/v1/catalog/lint', mca.auth())
  await forbidden('GET', '/v1/audit', mca.auth())
  await forbidden('POST', '/v1/plans/tj-sharing-plan/approve', mca.auth(), { signature: 'x..y' })
  // approver activating, auditor writing, operator exchanging
  await forbidden('POST', '/v1/plans/tj-sharing-plan/activate', approver.auth())
  await forbidden('POST', '/v1/plans/tj-sharing-plan/revoke', approver.auth())
  await forbidden('PUT', '/v1/members/tj.audit', auditor.auth(), { ...auditor.member, roles: ['auditor', 'operator'] })
  await forbidden('POST', '/v1/exchange/' + HOUSEHOLD, operator.auth(), envelope())
  // agency writing another agency's directory or disclosure
  await forbidden('PUT', '/v1/directories/tj.hrss', mca.auth(), hrssDirectory(h.hrss.url))
  await forbidden('PUT', '/v1/disclosures/tj.psb', mca.auth(), { agency: 'tj.psb', entries: [] })
  // ...even when the body names the caller's own agency (the URL decides, and then the body must match it)
  await forbidden('PUT', '/v1/directories/tj.hrss', mca.auth(), { ...hrssDirectory(h.hrss.url), agency: 'tj.mca' })

  // A directory claiming another agency's resources.
  const claiming: Directory = { ...hrssDirectory(h.hrss.url), version: 2 }
  claiming.resources = [{ ...(claiming.resources[0] as Directory['resources'][number]), id: 'tj.psb:household-registration' }]
  let res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.hrss', headers: hrss.auth(), payload: claiming })
  t.equal(res.statusCode, 422, 'a directory claiming another agency\'s resource')
  // The own directory under another agency's URL.
  res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.psb', headers: psb.auth(), payload: { ...hrssDirectory(h.hrss.url), version: 3 } })
  t.equal(res.statusCode, 422, 'a body for another agency under one\'s own URL')

  // A plan grant for a sharing: none resource.
  const secret: Directory = { ...hrssDirectory(h.hrss.url), version: 4 }
  secret.resources = [...secret.resources, { ...(secret.resources[0] as Directory['resources'][number]), id: 'tj.hrss:secret', name: 'secret', sharing: { type: 'none' } }]
  res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.hrss', headers: hrss.auth(), payload: secret })
  t.equal(res.statusCode, 200, 'an unshared resource may be listed')
  const plan = samplePlan(2)
  plan.grants = [...plan.grants, { id: 'grab-secret', consumer: 'tj.mca', resource: 'tj.hrss:secret', fields: ['contributionStatus'], purposes: [PURPOSE] }]
  res = await h.app.inject({ method: 'POST', url: '/v1/plans', headers: operator.auth(), payload: plan })
  t.equal(res.statusCode, 422, 'a grant for a sharing: none resource')
  t.match(res.body, /grab-secret|secret/)
  // A grant where the consumer is the provider, and one for a confidential resource stays refused in the extranet.
  const self = samplePlan(3)
  self.grants = [{ id: 'self', consumer: 'tj.psb', resource: HOUSEHOLD, fields: ['name'], purposes: [PURPOSE] }]
  t.equal((await h.app.inject({ method: 'POST', url: '/v1/plans', headers: operator.auth(), payload: self })).statusCode, 422, 'consumer = provider')
  const exchangeRes = await exchange(h, 'tj.psb:case-files', envelope())
  t.equal(exchangeRes.json().code, 'GOVEX_ERR_ZONE')
  // Every one of those refusals is audited (exchange) or recorded (admin).
  t.equal((await stores.audit.verify()).ok, true)
})

t.test('path traversal and encoded slashes in ids', async t => {
  const h = await harness(t)
  const urls = [
    '/v1/exchange/..%2F..%2Fv1%2Fmembers', '/v1/exchange/tj.psb:household-registration%2F..%2F..%2Fmembers', '/v1/exchange/%2e%2e',
    '/v1/exchange/tj.psb%3Ahousehold-registration%00', '/v1/exchange/tj.psb:household-registration/../../members',
    '/v1/directories/..%2Ftj.psb', '/v1/directories/tj.psb%2F..%2Ftj.mca', '/v1/members/..%2F..%2Fetc%2Fpasswd',
    '/v1/plans/..%2F..%2Fdata%2Fmembers.json', '/v1/catalog/..%5C..%5Ctj.psb', '/public/disclosures/..%2F..%2Faudit',
    '/public/disclosures/tj.psb%00.json', '/v1/plans/tj-sharing-plan%2F..%2F..', '/v1/audit/..%2F..%2Fverify'
  ]
  for (const url of urls) {
    const method = url.startsWith('/v1/exchange') || url.includes('/activate') ? 'POST' : 'GET'
    const res = await h.app.inject({ method, url, headers: h.actors.operator.auth(), ...(method === 'POST' ? { payload: envelope() } : {}) })
    t.ok(res.statusCode === 400 || res.statusCode === 404 || res.statusCode === 403, `${url} → ${res.statusCode}`)
    t.equal(injectedAnswer(res), null)
  }
  t.equal(h.psb.received.length, 0, 'no traversal reached a provider')
})

t.test('header injection: CRLF in userId, caseRef and query never reaches provider headers', async t => {
  const h = await harness(t)
  const evil = 'x\r\nx-injected: yes\r\n\r\nPOST /admin HTTP/1.1'
  const res = await exchange(h, HOUSEHOLD, envelope({ userId: evil, caseRef: evil, query: { idNumber: evil, [evil]: evil } }))
  t.equal(res.statusCode, 200)
  const received = h.psb.received.at(-1)
  t.ok(received !== undefined)
  const names = Object.keys(received?.headers ?? {}).sort()
  t.same(names, ['accept', 'authorization', 'connection', 'content-length', 'content-type', 'host'].filter(n => names.includes(n)), 'only the gateway\'s own headers')
  t.notOk(names.includes('x-injected'))
  t.notOk(received?.path.includes('admin'), 'the path is the endpoint\'s')
  const forwarded = JSON.parse(received?.body.toString() ?? '{}') as Record<string, unknown>
  t.equal(forwarded.userId, evil, 'the value travels, escaped, in the JSON body')
  t.equal(h.psb.received.length, 1, 'one request reached the provider, not two')
  const record = (await auditRecords(h)).at(-1) as Record<string, unknown>
  t.equal(record.userId, evil, 'and is audited as sent')
  // Response headers never echo the envelope either: x-request-id is the envelope id (a UUID).
  t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})

t.test('SSRF: endpoints outside upstream.allowHosts are refused, redirects are not followed', async t => {
  const h = await harness(t)
  const base = hrssDirectory(h.hrss.url)
  let version = 10
  for (const url of ['http://169.254.169.254/latest/meta-data', 'http://127.0.0.1@169.254.169.254/', 'http://10.0.0.1/', 'http://[::1]:80/', 'http://127.0.0.1.nip.io/', 'http://example.com/', 'file:///etc/passwd', 'gopher://127.0.0.1:6379/_FLUSHALL', 'http://localhost.evil.com/', 'ftp://127.0.0.1/']) {
    const doc = { ...base, version: ++version, resources: [{ ...(base.resources[0] as Directory['resources'][number]), endpoint: { url } }] }
    const res = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.hrss', headers: h.actors.hrss.auth(), payload: doc })
    t.ok(res.statusCode === 422 || res.statusCode === 400, `${url} refused (${res.statusCode})`)
  }
  // A provider that redirects to another server: the gateway does not follow.
  let victimHits = 0
  const victim = createServer((_req, res) => { victimHits++; res.end('{"data":{"name":"secret"}}') })
  await new Promise<void>(resolve => victim.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => victim.close(() => resolve())))
  const victimUrl = `http://127.0.0.1:${(victim.address() as AddressInfo).port}/internal`
  for (const status of [301, 302, 303, 307, 308]) {
    h.psb.behave((_r, res) => { res.writeHead(status, { location: victimUrl, 'content-type': 'application/json' }); res.end('{"data":{"name":"moved"}}') })
    const res = await exchange(h, HOUSEHOLD, envelope())
    t.equal(res.statusCode, 502, `${status} is a 502`)
    t.equal(res.json().code, 'GOVEX_ERR_UPSTREAM')
  }
  t.equal(victimHits, 0, 'the redirect target was never called')
})

t.test('oversized and duplicated headers, raw sockets', async t => {
  const h = await harness(t)
  const url = await h.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = new URL(url)
  const raw = async (text: string): Promise<string> => await new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(text))
    let out = ''
    socket.on('data', c => { out += c.toString('latin1') })
    socket.on('close', () => resolve(out))
    socket.on('error', reject)
    socket.setTimeout(5000, () => { socket.destroy(); resolve(out) })
  })
  const token = h.actors.mca.token()
  const huge = await raw(`GET /v1/grants/mine HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\nx-big: ${'a'.repeat(70_000)}\r\nconnection: close\r\n\r\n`)
  t.match(huge, /^HTTP\/1\.1 400/, 'headers over the limit: 400, with a code')
  const hugeBody = JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4)) as { code: string, requestId: string, message: string }
  t.equal(hugeBody.code, 'GOVEX_ERR_BAD_REQUEST')
  t.match(hugeBody.message, /headers are larger/)
  t.match(huge, new RegExp(`x-request-id: ${hugeBody.requestId}`))
  const garbage = await raw('HELLO THERE\r\n\r\n')
  t.match(garbage, /^HTTP\/1\.1 400/, 'not HTTP: 400')
  t.match(garbage, /"code":"GOVEX_ERR_BAD_REQUEST"/)
  const many = await raw(`GET /v1/grants/mine HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\n${Array.from({ length: 3000 }, (_, i) => `x-h${i}: 1\r\n`).join('')}connection: close\r\n\r\n`)
  t.match(many, /^HTTP\/1\.1 (400|200)/, 'thousands of headers: refused or ignored, no crash')
  const twoAuth = await raw(`GET /v1/grants/mine HTTP/1.1\r\nhost: x\r\nauthorization: Bearer garbage\r\nauthorization: Bearer ${token}\r\nconnection: close\r\n\r\n`)
  t.match(twoAuth, /^HTTP\/1\.1 401/, 'two Authorization headers: the first counts, it is refused')
  const twoLength = await raw(`POST /v1/exchange/${HOUSEHOLD} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 40\r\nconnection: close\r\n\r\n{}`)
  t.match(twoLength, /^HTTP\/1\.1 400/, 'two content-lengths: 400')
  const smuggle = await raw(`POST /v1/exchange/${HOUSEHOLD} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n0\r\n\r\nGET /v1/members HTTP/1.1\r\nhost: x\r\n\r\n`)
  t.match(smuggle, /^HTTP\/1\.1 400/, 'content-length with transfer-encoding: 400')
  t.notMatch(smuggle, /"members"/, 'no smuggled second request answered')
  const twoTypes = await raw(`POST /v1/exchange/${HOUSEHOLD} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: text/plain\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`)
  t.match(twoTypes, /^HTTP\/1\.1 4(00|15)/, 'two content-types: the first counts')
  t.equal((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still serving')
})

t.test('prototype-pollution keys in every JSON body', async t => {
  const h = await harness(t)
  const bodies = [
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"a":{"__proto__":{"polluted":"yes"}}}',
    '{"query":{"__proto__":{"polluted":"yes"}}}',
    '{"query":{"constructor":{"prototype":{"polluted":"yes"}}}}',
    '{"id":"00000000-0000-4000-8000-000000000000","purpose":"x","query":{"prototype":{"polluted":"yes"}}}'
  ]
  const routes: Array<['POST' | 'PUT', string, Harness['actors']['mca']]> = [
    ['POST', '/v1/exchange/' + HOUSEHOLD, h.actors.mca], ['PUT', '/v1/members/tj.x', h.actors.operator], ['PUT', '/v1/directories/tj.psb', h.actors.psb],
    ['PUT', '/v1/disclosures/tj.psb', h.actors.psb], ['POST', '/v1/plans', h.actors.operator], ['POST', '/v1/plans/tj-sharing-plan/approve', h.actors.approver]
  ]
  for (const [method, url, actor] of routes) {
    for (const body of bodies) {
      const res = await h.app.inject({ method, url, headers: { ...actor.auth(), 'content-type': 'application/json' }, payload: body })
      // __proto__ and constructor.prototype are refused by the parser; a plain "prototype" key is data like any other.
      if (body.includes('__proto__') || body.includes('"constructor"')) t.equal(res.statusCode, 400, `${method} ${url} ${body} → ${res.statusCode}`)
      else t.ok(res.statusCode >= 400 && res.statusCode < 500, `${method} ${url} ${body} → ${res.statusCode}`)
      t.equal(injectedAnswer(res), null)
      t.ok(prototypeClean(), 'no pollution')
    }
  }
  // A prototype key inside an otherwise valid envelope's query is passed through as data, never merged.
  const res = await exchange(h, HOUSEHOLD, { ...envelope(), query: JSON.parse('{"idNumber":"1","prototype":{"polluted":"yes"}}') as Record<string, unknown> })
  t.equal(res.statusCode, 200)
  t.ok(prototypeClean())
})
