// POST /v1/exchange: the allowed path, minimisation, every refusal in
// PROTOCOL.md's order, and the one audit record each authenticated request leaves.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { publicKeyFromJwk, sha256, digestOf, verifyJwt } from '@govex/core'
import { harness, envelope, exchange, auditRecords, activatePlan } from './helpers/gateway.js'
import { answerData } from './helpers/provider.js'
import { samplePlan, PURPOSE, GATEWAY_ID } from './helpers/deployment.js'

const HOUSEHOLD = 'tj.psb:household-registration'

t.test('an allowed exchange: minimised data, digests, audit, and a provider call it can verify', async t => {
  const h = await harness(t)
  const body = envelope({ fields: ['householdAddress', 'name'] })
  const res = await exchange(h, HOUSEHOLD, body)
  t.equal(res.statusCode, 200, res.body)
  const answer = res.json()
  t.equal(res.headers['x-request-id'], body.id)
  t.match(answer, {
    requestId: body.id,
    resource: HOUSEHOLD,
    consumer: 'tj.mca',
    provider: 'tj.psb',
    plan: { id: 'tj-sharing-plan', version: 1 },
    grantId: 'mca-household',
    fields: ['householdAddress', 'name']
  })
  t.not(answer.id, body.id, 'the response envelope has its own id')
  t.same(answer.data, { householdAddress: 'Heping District', name: 'Zhang San' }, 'idNumber and birthDate removed')
  t.same(Object.keys(answer.data), ['householdAddress', 'name'], 'in the order of fields')

  const received = h.psb.received.at(-1)!
  t.equal(received.path, '/household')
  const forwarded = JSON.parse(received.body.toString('utf8'))
  t.same(forwarded, {
    requestId: body.id,
    consumer: 'tj.mca',
    resource: HOUSEHOLD,
    purpose: PURPOSE,
    userId: 'officer-4711',
    caseRef: 'MCA-2026-000123',
    fields: ['householdAddress', 'name'],
    query: { idNumber: '120101199001011234' }
  })
  t.equal(answer.digests.request, sha256(received.body), 'request digest = sha256 of the exact bytes sent')
  t.equal(answer.digests.response, digestOf(answer.data), 'response digest = canonical JSON of the minimised data')

  const authorization = received.headers.authorization as string
  t.match(authorization, /^Bearer /)
  const token = authorization.slice(7)
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'))
  t.same(header, { alg: 'EdDSA', kid: h.actors.gateway.publicJwk.kid })
  const verified = verifyJwt(token, () => publicKeyFromJwk(h.actors.gateway.publicJwk), { audience: 'tj.psb', issuer: GATEWAY_ID, maxTtlS: 60 })
  t.ok(verified.ok, 'the provider verifies the gateway token with the gateway public key')
  if (verified.ok) {
    t.match(verified.claims, { iss: GATEWAY_ID, aud: 'tj.psb', jti: body.id, resource: HOUSEHOLD, consumer: 'tj.mca', fields: ['householdAddress', 'name'], digest: answer.digests.request })
    t.ok((verified.claims.exp as number) - (verified.claims.iat as number) <= 60)
  }
  const wrongAud = verifyJwt(token, () => publicKeyFromJwk(h.actors.gateway.publicJwk), { audience: 'tj.hrss' })
  t.notOk(wrongAud.ok, 'another provider refuses it')

  const records = await auditRecords(h)
  const record = records.at(-1)!
  t.match(record, {
    kind: 'exchange', id: body.id, consumer: 'tj.mca', provider: 'tj.psb', resource: HOUSEHOLD,
    userId: 'officer-4711', purpose: PURPOSE, caseRef: 'MCA-2026-000123',
    plan: { id: 'tj-sharing-plan', version: 1 }, grantId: 'mca-household', fields: ['householdAddress', 'name'],
    outcome: 'allowed', code: null, status: 200, digests: answer.digests, seq: answer.auditSeq
  })
  t.type(record.latencyMs, 'number')
})

t.test('fields default to the grant; arrays are minimised row by row; null stays null', async t => {
  const h = await harness(t)
  let res = await exchange(h, HOUSEHOLD, envelope())
  t.same(res.json().fields, ['name', 'householdAddress'])
  t.same(res.json().data, { name: 'Zhang San', householdAddress: 'Heping District' })

  h.psb.behave(answerData([{ name: 'A', street: 'S1', idNumber: '1' }, { name: 'B', idNumber: '2', extra: { deep: true } }, {}]))
  res = await exchange(h, 'tj.psb:residents-by-street', envelope({ purpose: 'street-survey', query: {} }))
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json().data, [{ name: 'A', street: 'S1' }, { name: 'B' }, {}])

  h.psb.behave(answerData(null))
  res = await exchange(h, HOUSEHOLD, envelope())
  t.equal(res.statusCode, 200)
  t.equal(res.json().data, null)
  t.equal(res.json().digests.response, digestOf(null))
})

t.test('refusals in PROTOCOL.md order, each with its code and one audit record', async t => {
  const h = await harness(t)
  const before = (await auditRecords(h)).length
  const cases: Array<[string, string, Record<string, unknown>, number, string]> = [
    ['unknown resource', 'tj.psb:nothing-here', envelope(), 404, 'GOVEX_ERR_NOT_FOUND'],
    ['zone', 'tj.psb:case-files', envelope(), 403, 'GOVEX_ERR_ZONE'],
    ['no grant', 'tj.hrss:social-insurance', envelope({ purpose: 'x' }), 403, 'GOVEX_ERR_PURPOSE_NOT_GRANTED'],
    ['grant outside validity', HOUSEHOLD, envelope({ purpose: 'old-review' }), 403, 'GOVEX_ERR_NO_GRANT'],
    ['purpose', HOUSEHOLD, envelope({ purpose: 'curiosity' }), 403, 'GOVEX_ERR_PURPOSE_NOT_GRANTED'],
    ['fields', HOUSEHOLD, envelope({ fields: ['name', 'idNumber'] }), 403, 'GOVEX_ERR_FIELDS_NOT_GRANTED'],
    ['condition', HOUSEHOLD, envelope({ caseRef: undefined }), 403, 'GOVEX_ERR_CONDITION_UNMET'],
    ['required query', HOUSEHOLD, envelope({ query: {} }), 400, 'GOVEX_ERR_BAD_REQUEST']
  ]
  for (const [name, resource, body, status, code] of cases) {
    const res = await exchange(h, resource, body)
    t.equal(res.statusCode, status, name)
    const error = res.json()
    t.equal(error.code, code, name)
    t.equal(error.statusCode, status)
    t.equal(error.requestId, body.id, `${name}: requestId is the envelope id`)
    t.equal(res.headers['x-request-id'], body.id)
    t.type(error.error, 'string')
    t.type(error.message, 'string')
  }
  const fieldsError = (await exchange(h, HOUSEHOLD, envelope({ fields: ['idNumber'] }))).json()
  t.match(fieldsError.message, /idNumber/, 'the message lists the fields outside the grant')
  const queryError = (await exchange(h, HOUSEHOLD, envelope({ query: {} }))).json()
  t.same(queryError.problems, [{ code: 'required', path: '/query/idNumber', message: 'is required by the resource' }])

  const records = (await auditRecords(h)).slice(before)
  t.equal(records.length, cases.length + 2, 'one record per refused request')
  t.match(records[0], { outcome: 'denied', code: 'GOVEX_ERR_NOT_FOUND', status: 404, resource: 'tj.psb:nothing-here', provider: 'tj.psb', digests: null })
  t.match(records[5], { outcome: 'denied', code: 'GOVEX_ERR_FIELDS_NOT_GRANTED', grantId: 'mca-household', plan: { id: 'tj-sharing-plan', version: 1 } })
  t.equal(h.psb.received.length, 0, 'no refused request reached the provider')
})

t.test('no grant at all, and no active plan', async t => {
  const h = await harness(t, { activate: false })
  let res = await exchange(h, HOUSEHOLD, envelope())
  t.equal(res.json().code, 'GOVEX_ERR_NO_GRANT', 'no active plan')
  await activatePlan(h, samplePlan())
  res = await exchange(h, HOUSEHOLD, envelope(), h.actors.hrss.auth())
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'GOVEX_ERR_NO_GRANT', 'hrss has no grant for household registration')
})

t.test('the intranet gateway serves confidential resources (zone passes, grant decides)', async t => {
  const h = await harness(t, { zone: 'intranet' })
  const res = await exchange(h, 'tj.psb:case-files', envelope())
  t.equal(res.json().code, 'GOVEX_ERR_NO_GRANT')
})

t.test('replay: an envelope id used by an allowed exchange is refused, audited again', async t => {
  const h = await harness(t)
  const body = envelope()
  t.equal((await exchange(h, HOUSEHOLD, body)).statusCode, 200)
  const again = await exchange(h, HOUSEHOLD, body)
  t.equal(again.statusCode, 409)
  t.equal(again.json().code, 'GOVEX_ERR_REPLAY')
  const records = (await auditRecords(h)).filter(r => r.id === body.id)
  t.same(records.map(r => r.outcome), ['allowed', 'denied'], 'the id appears on two records')
  // A refused request does not consume its id.
  const refused = envelope({ purpose: 'curiosity' })
  t.equal((await exchange(h, HOUSEHOLD, refused)).statusCode, 403)
  t.equal((await exchange(h, HOUSEHOLD, { ...refused, purpose: PURPOSE })).statusCode, 200)
})

t.test('quota: 429 with retry-after, consuming neither quota nor envelope id', async t => {
  const h = await harness(t)
  h.hrss.behave(answerData({ contributionStatus: 'paid', employerName: 'X' }))
  for (let i = 0; i < 2; i++) t.equal((await exchange(h, 'tj.hrss:social-insurance', envelope())).statusCode, 200)
  const body = envelope()
  const res = await exchange(h, 'tj.hrss:social-insurance', body)
  t.equal(res.statusCode, 429)
  t.equal(res.json().code, 'GOVEX_ERR_QUOTA')
  t.match(res.headers['retry-after'], /^[0-9]+$/)
  t.ok(Number(res.headers['retry-after']) >= 1)
  const record = (await auditRecords(h)).at(-1)!
  t.match(record, { id: body.id, outcome: 'denied', code: 'GOVEX_ERR_QUOTA', status: 429 })
  t.equal(h.hrss.received.length, 2, 'the refused request was not forwarded')
})

t.test('quota released id: the same envelope is accepted once quota returns', async t => {
  let clock = Date.now()
  const h = await harness(t, { now: () => clock })
  h.hrss.behave(answerData({ contributionStatus: 'paid' }))
  for (let i = 0; i < 2; i++) await exchange(h, 'tj.hrss:social-insurance', envelope())
  const body = envelope()
  t.equal((await exchange(h, 'tj.hrss:social-insurance', body)).statusCode, 429)
  clock += 121_000
  t.equal((await exchange(h, 'tj.hrss:social-insurance', body)).statusCode, 200, 'the id was given back')
})

t.test('bad input: each a coded 4xx, audited for an authenticated caller', async t => {
  const h = await harness(t)
  const before = (await auditRecords(h)).length
  const url = '/v1/exchange/' + HOUSEHOLD
  const auth = h.actors.mca.auth()

  let res = await h.app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': 'application/json' }, payload: '{"id": "x", ' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'GOVEX_ERR_BAD_REQUEST')
  t.equal(res.json().problems[0].code, 'json')

  res = await h.app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(res.statusCode, 415)
  t.equal(res.json().code, 'GOVEX_ERR_UNSUPPORTED_MEDIA_TYPE')

  res = await h.app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' })
  t.equal(res.statusCode, 415)

  res = await h.app.inject({ method: 'POST', url, headers: auth, payload: { ...envelope(), query: { blob: 'x'.repeat(1024 * 1024) } } })
  t.equal(res.statusCode, 413)
  t.equal(res.json().code, 'GOVEX_ERR_TOO_LARGE')

  const unknown = envelope({ sneaky: true })
  res = await h.app.inject({ method: 'POST', url, headers: auth, payload: unknown })
  t.equal(res.statusCode, 400)
  t.equal(res.json().requestId, unknown.id, 'the envelope id even when the body fails the schema')
  t.same(res.json().problems, [{ code: 'unknown-property', path: '/sneaky', message: 'is not a known property; remove it or check its spelling' }])

  res = await h.app.inject({ method: 'POST', url, headers: auth, payload: { id: 'not-a-uuid', purpose: 'Not A Token', fields: [] } })
  t.equal(res.statusCode, 400)
  t.ok(res.json().problems.length >= 3, 'every problem listed')
  t.match(res.json().requestId, /^[0-9a-f-]{36}$/, 'a generated id when the body has no envelope id')

  res = await h.app.inject({ method: 'POST', url, headers: auth })
  t.equal(res.statusCode, 400, 'no body')

  res = await h.app.inject({ method: 'POST', url: '/v1/exchange/NOT_A_RESOURCE', headers: auth, payload: envelope() })
  t.equal(res.statusCode, 400, 'a malformed resource id')
  t.equal(res.json().problems[0].path, '/resourceId')

  res = await h.app.inject({ method: 'POST', url: '/v1/exchange/' + 'a'.repeat(300), headers: auth, payload: envelope() })
  t.equal(res.statusCode, 400, 'an over-long parameter')
  t.equal(res.json().code, 'GOVEX_ERR_BAD_REQUEST')

  res = await h.app.inject({ method: 'POST', url: '/v1/exchange/%E0%A4%A', headers: auth, payload: envelope() })
  t.equal(res.statusCode, 400, 'a bad percent-encoding')

  res = await h.app.inject({ method: 'POST', url, headers: auth, payload: [1, 2, 3] })
  t.equal(res.statusCode, 400, 'an array body')

  res = await h.app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': 'application/json' }, payload: '{"__proto__": {"x": 1}}' })
  t.equal(res.statusCode, 400, 'prototype poisoning')

  const records = (await auditRecords(h)).slice(before)
  t.ok(records.length >= 10, 'the refusals of an authenticated caller are audited')
  t.ok(records.every(r => r.outcome === 'denied' && r.consumer === 'tj.mca'))
  t.ok(records.some(r => r.code === 'GOVEX_ERR_UNSUPPORTED_MEDIA_TYPE' && r.status === 415))
  t.ok(records.some(r => r.code === 'GOVEX_ERR_TOO_LARGE' && r.status === 413))
  t.equal(h.psb.received.length, 0)
})

t.test('only agencies exchange', async t => {
  const h = await harness(t)
  const res = await exchange(h, HOUSEHOLD, envelope(), h.actors.operator.auth())
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'GOVEX_ERR_FORBIDDEN_ROLE')
  const record = (await auditRecords(h)).at(-1)!
  t.match(record, { kind: 'exchange', consumer: 'tj.it-office', outcome: 'denied', code: 'GOVEX_ERR_FORBIDDEN_ROLE', status: 403 })
})

t.test('provider failures are 502/504, audited as errors, never leaking the provider', async t => {
  const h = await harness(t)
  const cases: Array<[string, Parameters<typeof h.psb.behave>[0], number, string]> = [
    ['5xx', (_r, res) => { res.writeHead(500, { 'content-type': 'application/json' }); res.end('{"error":"database password is hunter2"}') }, 502, 'GOVEX_ERR_UPSTREAM'],
    ['404', (_r, res) => { res.writeHead(404); res.end() }, 502, 'GOVEX_ERR_UPSTREAM'],
    ['not JSON', (_r, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('hunter2') }, 502, 'GOVEX_ERR_UPSTREAM'],
    ['no data', (_r, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"rows":[]}') }, 502, 'GOVEX_ERR_UPSTREAM'],
    ['data a string', (_r, res) => { res.writeHead(200); res.end('{"data":"hunter2"}') }, 502, 'GOVEX_ERR_UPSTREAM'],
    ['array of non-objects', (_r, res) => { res.writeHead(200); res.end('{"data":[1,2]}') }, 502, 'GOVEX_ERR_UPSTREAM'],
    ['huge body', (_r, res) => { res.writeHead(200); res.end(JSON.stringify({ data: { name: 'x'.repeat(100 * 1024) } })) }, 502, 'GOVEX_ERR_UPSTREAM'],
    ['reset', (_r, _res, req) => { req.socket.destroy() }, 502, 'GOVEX_ERR_UPSTREAM'],
    ['hang', () => {}, 504, 'GOVEX_ERR_UPSTREAM_TIMEOUT'],
    ['slow body', (_r, res) => { res.writeHead(200); res.write('{"data":'); setTimeout(() => { if (!res.destroyed) res.end('null}') }, 3000).unref() }, 504, 'GOVEX_ERR_UPSTREAM_TIMEOUT']
  ]
  for (const [name, behaviour, status, code] of cases) {
    h.psb.behave(behaviour)
    const body = envelope()
    const res = await exchange(h, HOUSEHOLD, body)
    t.equal(res.statusCode, status, name)
    t.equal(res.json().code, code, name)
    t.notMatch(res.body, /hunter2/, `${name}: the provider's words are not repeated`)
    const record = (await auditRecords(h)).at(-1)!
    t.match(record, { id: body.id, outcome: 'error', code, status, grantId: 'mca-household' }, name)
    // The body went to the provider: the record names it by the digest the provider's token carries.
    const received = h.psb.received.at(-1)!
    const claims = JSON.parse(Buffer.from((received.headers.authorization as string).split('.')[1]!, 'base64url').toString('utf8'))
    t.equal(claims.jti, body.id, name)
    t.same(record.digests, { request: claims.digest, response: null }, `${name}: the request digest the provider received, no response digest`)
    t.equal(claims.digest, sha256(received.body), name)
  }
  h.psb.behave(answerData({ name: 'ok' }))
  t.equal((await exchange(h, HOUSEHOLD, envelope())).statusCode, 200, 'the gateway recovers')
})

t.test('an unreachable provider is a 502', async t => {
  const h = await harness(t)
  await h.psb.close()
  const res = await exchange(h, HOUSEHOLD, envelope())
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'GOVEX_ERR_UPSTREAM')
  // The envelope id is spent, but no byte reached a provider: the record names no request digest.
  t.match((await auditRecords(h)).at(-1), { outcome: 'error', code: 'GOVEX_ERR_UPSTREAM', digests: null })
})

t.test('every authenticated exchange request leaves exactly one record', async t => {
  const h = await harness(t)
  const before = (await auditRecords(h)).length
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const body = envelope({ id: randomUUID(), purpose: i % 2 === 0 ? PURPOSE : 'nope' })
    ids.push(body.id as string)
    await exchange(h, HOUSEHOLD, body)
  }
  await exchange(h, HOUSEHOLD, envelope(), { authorization: 'Bearer nonsense' })
  const records = (await auditRecords(h)).slice(before)
  t.same(records.map(r => r.id), ids, 'one each, in order; the unauthenticated one left none')
})
