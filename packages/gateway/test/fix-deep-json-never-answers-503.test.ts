// Regression: JSON nested deeper than JSON.stringify can walk (a few thousand
// levels) parses, but cannot be passed on. A provider answer like that was
// audited as an allowed 200 and then answered 503 (the response failed to
// serialise after the record was sealed); it is now a 502 recorded as one. A
// consumer `query` like that answered 503 after spending the envelope id and
// the quota; it is now a 400 that spends neither. (The depth is now a fixed
// limit: fix-fixed-nesting-limit.test.ts.)
import t from 'tap'
import { sha256 } from '@govex/core'
import { harness, envelope, exchange, auditRecords } from './helpers/gateway.js'
import { answerData } from './helpers/provider.js'

const HOUSEHOLD = 'tj.psb:household-registration'
const DEPTH = 20_000

function nested (depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth)
}

t.test('a provider answer nested too deeply is a 502, audited as one', async t => {
  const h = await harness(t, { config: raw => { (raw.limits as Record<string, unknown>).upstreamBodyBytes = 1024 * 1024 } })
  h.psb.behave((_received, res) => {
    const body = `{"data":{"name":${nested(DEPTH)}}}`
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  const body = envelope()
  const res = await exchange(h, HOUSEHOLD, body)
  t.equal(res.statusCode, 502, res.body.slice(0, 300))
  t.equal(res.json().code, 'GOVEX_ERR_UPSTREAM')
  t.match((await auditRecords(h)).filter(r => r.id === body.id), [{ outcome: 'error', code: 'GOVEX_ERR_UPSTREAM', status: 502, digests: { request: sha256(h.psb.received.at(-1)!.body), response: null } }], 'one record, saying what was answered')

  // nesting within the limit (fix-fixed-nesting-limit) still passes, minimised as always
  h.psb.behave(answerData({ name: JSON.parse(nested(50)), idNumber: 'x' }))
  const ok = await exchange(h, HOUSEHOLD, envelope())
  t.equal(ok.statusCode, 200, ok.body.slice(0, 300))
  t.same(ok.json().data, { name: JSON.parse(nested(50)) })
})

t.test('a query nested too deeply is a 400 that spends neither the envelope id nor the quota', async t => {
  const h = await harness(t)
  const resource = 'tj.hrss:social-insurance'
  const body = envelope({ query: { idNumber: '1' } })
  const payload = JSON.stringify(body).replace('"idNumber":"1"', `"idNumber":"1","deep":${nested(DEPTH)}`)
  const res = await h.app.inject({ method: 'POST', url: '/v1/exchange/' + resource, headers: { ...h.actors.mca.auth(), 'content-type': 'application/json' }, payload })
  t.equal(res.statusCode, 400, res.body.slice(0, 300))
  t.equal(res.json().code, 'GOVEX_ERR_BAD_REQUEST')
  t.match(res.json().problems, [{ path: '/query' }])
  t.equal(res.json().requestId, body.id)
  t.equal(h.hrss.received.length, 0, 'nothing was forwarded')
  t.match((await auditRecords(h)).filter(r => r.id === body.id), [{ outcome: 'denied', code: 'GOVEX_ERR_BAD_REQUEST', status: 400 }])

  // the grant allows 2 a minute: both are still there, and the envelope id was not used
  t.equal((await exchange(h, resource, envelope({ query: { idNumber: '1' } }))).statusCode, 200, 'the quota was not spent')
  t.equal((await exchange(h, resource, envelope({ query: { idNumber: '1' } }))).statusCode, 200)
  const again = await exchange(h, resource, body)
  t.equal(again.json().code, 'GOVEX_ERR_QUOTA', 'the same envelope meets the quota, not a replay')
})
