// Regression: how deeply an exchange body or a provider's answer could nest
// depended on the stack JSON.stringify happened to run on (~3,000 to 4,100
// levels). Both are now held to core's MAX_JSON_DEPTH (64 levels of objects
// and arrays, the body or the answer itself the first): a body one level
// deeper is a 400 naming the path and the limit, before the envelope id and the
// quota are spent; an answer one level deeper is a 502, audited as an error.
import t from 'tap'
import { MAX_JSON_DEPTH, sha256 } from '@govex/core'
import { harness, envelope, exchange, auditRecords } from './helpers/gateway.js'
import { answerData } from './helpers/provider.js'

const HOUSEHOLD = 'tj.psb:household-registration'
const INSURANCE = 'tj.hrss:social-insurance'

/** `levels` levels of objects and arrays, alternating, the outermost an object: 1 → {}, 2 → { d: [] }, ... */
function nest (levels: number): unknown {
  let value: unknown = levels % 2 === 0 ? [] : {}
  for (let level = levels - 1; level >= 1; level--) value = level % 2 === 1 ? { d: value } : [value]
  return value
}

/** The JSON Pointer of the container at `level` inside nest(), nest() itself being level 1. */
function pathAt (level: number): string {
  let path = ''
  for (let l = 2; l <= level; l++) path += l % 2 === 0 ? '/d' : '/0'
  return path
}

/** An envelope whose body nests exactly `depth` levels: the body 1, `query` 2, its `deep` member 3 and on. */
function deepEnvelope (depth: number): Record<string, unknown> {
  return envelope({ query: { idNumber: '1', deep: nest(depth - 2) } })
}

t.test('the limit is 64 levels', async t => {
  t.equal(MAX_JSON_DEPTH, 64)
})

t.test(`an exchange body of ${MAX_JSON_DEPTH} levels is forwarded; one level more is a 400 that spends neither the envelope id nor the quota`, async t => {
  const h = await harness(t)
  const atLimit = deepEnvelope(MAX_JSON_DEPTH)
  const ok = await exchange(h, INSURANCE, atLimit)
  t.equal(ok.statusCode, 200, ok.body.slice(0, 300))
  t.same(JSON.parse(h.hrss.received.at(-1)!.body.toString('utf8')).query, atLimit.query, 'the query reaches the provider as sent')

  const forwarded = h.hrss.received.length
  const body = deepEnvelope(MAX_JSON_DEPTH + 1)
  const res = await exchange(h, INSURANCE, body)
  t.equal(res.statusCode, 400, res.body.slice(0, 300))
  const answer = res.json()
  t.equal(answer.code, 'GOVEX_ERR_BAD_REQUEST')
  t.equal(answer.requestId, body.id, 'the answer carries the envelope id')
  const path = '/query/deep' + pathAt(MAX_JSON_DEPTH - 1)
  t.same(answer.problems, [{ code: 'too-deep', path, message: `opens level ${MAX_JSON_DEPTH + 1} of nested objects and arrays, beyond the limit of ${MAX_JSON_DEPTH}` }])
  t.match(answer.message, path)
  t.match(answer.message, /send it less deeply nested/, 'the message says what to do')
  t.equal(h.hrss.received.length, forwarded, 'nothing was forwarded')
  t.match((await auditRecords(h)).filter(r => r.id === body.id), [{ outcome: 'denied', code: 'GOVEX_ERR_BAD_REQUEST', status: 400, digests: null }])

  // The grant allows 2 a minute and one is spent: the refused body spent no quota, nor its envelope id.
  const again = await exchange(h, INSURANCE, { ...body, query: { idNumber: '1' } })
  t.equal(again.statusCode, 200, 'the same envelope id, flattened, is an exchange: ' + again.body.slice(0, 200))
})

t.test('a body nested far beyond the limit is refused the same way, whatever JSON.stringify could walk', async t => {
  const h = await harness(t)
  const body = envelope({ query: { idNumber: '1' } })
  const payload = JSON.stringify(body).replace('"idNumber":"1"', `"idNumber":"1","deep":${'['.repeat(20_000)}${']'.repeat(20_000)}`)
  const res = await h.app.inject({ method: 'POST', url: '/v1/exchange/' + INSURANCE, headers: { ...h.actors.mca.auth(), 'content-type': 'application/json' }, payload })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { code: 'GOVEX_ERR_BAD_REQUEST', requestId: body.id, problems: [{ code: 'too-deep', path: '/query/deep' + '/0'.repeat(MAX_JSON_DEPTH - 2) }] })
})

t.test('the limit holds for every body, before the schema: a document cannot nest deeper either', async t => {
  const h = await harness(t)
  const res = await h.app.inject({ method: 'PUT', url: '/v1/members/tj.x', headers: h.actors.operator.auth(), payload: { id: 'tj.x', extra: nest(MAX_JSON_DEPTH) } })
  t.equal(res.statusCode, 400)
  t.match(res.json().problems, [{ code: 'too-deep', path: '/extra' + pathAt(MAX_JSON_DEPTH) }])
})

t.test(`a provider answer of ${MAX_JSON_DEPTH} levels is passed on; one level more is a 502, audited as an error with the request digest`, async t => {
  const h = await harness(t)
  // the answer { data: { name: … } } is level 1, data 2, name's value 3 and on
  const atLimit = nest(MAX_JSON_DEPTH - 2)
  h.psb.behave(answerData({ name: atLimit, idNumber: 'x' }))
  const ok = await exchange(h, HOUSEHOLD, envelope())
  t.equal(ok.statusCode, 200, ok.body.slice(0, 300))
  t.same(ok.json().data, { name: atLimit }, 'minimised as always')

  h.psb.behave(answerData({ name: nest(MAX_JSON_DEPTH - 1) }))
  const body = envelope()
  const res = await exchange(h, HOUSEHOLD, body)
  t.equal(res.statusCode, 502, res.body.slice(0, 300))
  t.equal(res.json().code, 'GOVEX_ERR_UPSTREAM')
  t.match(res.json().message, `nests deeper than ${MAX_JSON_DEPTH} levels`)
  const sent = sha256(h.psb.received.at(-1)!.body)
  t.match((await auditRecords(h)).filter(r => r.id === body.id), [{ outcome: 'error', code: 'GOVEX_ERR_UPSTREAM', status: 502, digests: { request: sent, response: null } }])

  // Nesting in a field the consumer may not see is minimised away and harms nothing.
  h.psb.behave(answerData({ name: 'Zhang', idNumber: nest(MAX_JSON_DEPTH * 10) }))
  const fine = await exchange(h, HOUSEHOLD, envelope())
  t.equal(fine.statusCode, 200)
  t.same(fine.json().data, { name: 'Zhang' })
})

t.test('a provider answer nested far beyond the limit is the same 502', async t => {
  const h = await harness(t, { config: raw => { (raw.limits as Record<string, unknown>).upstreamBodyBytes = 1024 * 1024 } })
  h.psb.behave((_received, res) => {
    const text = `{"data":{"name":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  })
  const res = await exchange(h, HOUSEHOLD, envelope())
  t.equal(res.statusCode, 502)
  t.match(res.json().message, `nests deeper than ${MAX_JSON_DEPTH} levels`)
})
