// Regression: an exchange body that is JSON with an envelope id but holds a
// `__proto__` or `constructor.prototype` key is refused (400, prototype
// poisoning), and that refusal still answers and is audited under the envelope
// id (PROTOCOL.md "Errors": requestId is the envelope id when the body has one).
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { harness, auditRecords } from './helpers/gateway.js'

const HOUSEHOLD = '/v1/exchange/tj.psb:household-registration'

function body (id: string, query: string): string {
  return `{"id":"${id}","purpose":"minimum-living-guarantee-review","caseRef":"c-1","query":${query}}`
}

t.test('a refused __proto__ or constructor.prototype key keeps the envelope id', async t => {
  const h = await harness(t)
  for (const query of ['{"idNumber":"1","__proto__":{"x":1}}', '{"idNumber":"1","constructor":{"prototype":{"x":1}}}']) {
    const id = randomUUID()
    const res = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: { ...h.actors.mca.auth(), 'content-type': 'application/json' }, payload: body(id, query) })
    t.equal(res.statusCode, 400, query)
    t.equal(res.json().code, 'GOVEX_ERR_BAD_REQUEST')
    t.equal(res.json().requestId, id, 'requestId is the envelope id')
    t.equal(res.headers['x-request-id'], id)
    t.match((await auditRecords(h)).filter(r => r.id === id), [{ kind: 'exchange', outcome: 'denied', code: 'GOVEX_ERR_BAD_REQUEST', status: 400 }], 'audited under the envelope id')
  }

  const id = randomUUID()
  const unauthenticated = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: { 'content-type': 'application/json' }, payload: body(id, '{"__proto__":{}}') })
  t.equal(unauthenticated.statusCode, 401, 'authentication still answers first')
  t.equal(unauthenticated.json().requestId, id)

  const broken = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: { ...h.actors.mca.auth(), 'content-type': 'application/json' }, payload: body(id, '{"__proto__":') })
  t.equal(broken.statusCode, 400)
  t.not(broken.json().requestId, id, 'a body that is not JSON names no envelope id')
})
