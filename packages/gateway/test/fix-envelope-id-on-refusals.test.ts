// Regression: an exchange refused at authentication (401) or role (403) still
// answers with the envelope id as requestId and x-request-id (PROTOCOL.md), the
// 403 is audited under it, and the refusal comes first even when the body is
// also wrong (415, bad JSON).
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { harness, envelope, auditRecords } from './helpers/gateway.js'

const HOUSEHOLD = '/v1/exchange/tj.psb:household-registration'

t.test('401 and 403 on an exchange carry the envelope id', async t => {
  const h = await harness(t)
  const id = randomUUID()
  const noToken = await h.app.inject({ method: 'POST', url: HOUSEHOLD, payload: envelope({ id }) })
  t.equal(noToken.statusCode, 401)
  t.equal(noToken.json().requestId, id)
  t.equal(noToken.headers['x-request-id'], id)

  const id2 = randomUUID()
  const operator = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: h.actors.operator.auth(), payload: envelope({ id: id2 }) })
  t.equal(operator.statusCode, 403)
  t.equal(operator.json().code, 'GOVEX_ERR_FORBIDDEN_ROLE')
  t.equal(operator.json().requestId, id2)
  t.equal(operator.headers['x-request-id'], id2)
  const records = (await auditRecords(h)).filter(r => r.id === id2)
  t.match(records, [{ kind: 'exchange', consumer: 'tj.it-office', outcome: 'denied', code: 'GOVEX_ERR_FORBIDDEN_ROLE', status: 403 }], 'audited under the envelope id')
  t.equal((await auditRecords(h)).filter(r => r.id === id).length, 0, 'a 401 is logged, not audited')
})

t.test('authentication answers before a body problem', async t => {
  const h = await harness(t)
  const wrongType = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: { 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(wrongType.statusCode, 401)
  const badJson = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: { 'content-type': 'application/json' }, payload: '{nope' })
  t.equal(badJson.statusCode, 401)
  const roleAndBadJson = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: { ...h.actors.auditor.auth(), 'content-type': 'application/json' }, payload: '{nope' })
  t.equal(roleAndBadJson.statusCode, 403)
  const fine = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: { ...h.actors.mca.auth(), 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(fine.statusCode, 415, 'an authenticated agency meets the body problem')
})

t.test('fix-replay-uuid-case: one envelope id in two spellings is one envelope', async t => {
  const h = await harness(t)
  const id = randomUUID()
  const first = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: h.actors.mca.auth(), payload: envelope({ id }) })
  t.equal(first.statusCode, 200, first.body)
  const upper = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: h.actors.mca.auth(), payload: envelope({ id: id.toUpperCase() }) })
  t.equal(upper.statusCode, 409)
  t.equal(upper.json().code, 'GOVEX_ERR_REPLAY')
  t.equal(h.psb.received.length, 1, 'the provider was asked once')
})
