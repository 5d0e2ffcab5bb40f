// Regression: a lone UTF-16 surrogate ("\ud800") in userId or caseRef made the
// audit record unsealable (RFC 8785 refuses it): the exchange was forwarded to
// the provider, then answered 400 with no audit record at all; a refused one
// was not audited either. In a document it made the digest throw (503). Now
// the body parser refuses such bodies with a coded 400 before anything else,
// each refusal is audited, a plan id cut for the audit target never ends on
// half a pair, and an entry that still cannot be sealed is recorded with
// U+FFFD rather than lost.
import t from 'tap'
import { openMemoryStores } from '@govex/core'
import type { AuditLog } from '@govex/core'
import { harness, envelope, exchange } from '../packages/gateway/test/helpers/gateway.js'
import { GATEWAY_ID, hrssDirectory, samplePlan } from '../packages/gateway/test/helpers/deployment.js'
import { AuditWriter } from '../packages/gateway/src/audit-writer.js'
import { createMetrics } from '../packages/gateway/src/metrics.js'

async function records (audit: AuditLog): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = []
  for await (const r of audit.scan({})) out.push(r as unknown as Record<string, unknown>)
  return out
}

t.test('lone surrogates in the envelope: refused before the provider, audited once, chain verifies', async t => {
  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID })
  t.teardown(async () => { await stores.close() })
  const h = await harness(t, { stores })
  const before = h.psb.received.length
  const cases = [
    { userId: 'officer\ud800' },
    { caseRef: '\udfff-2026' },
    { userId: 'ok', caseRef: 'a\udbff\udbffb' },
    { query: { idNumber: '\ud800' } },
    { query: { '\udc00': 'x', idNumber: '1' } }
  ]
  const ids: string[] = []
  for (const overrides of cases) {
    const sent = envelope(overrides)
    ids.push(sent.id as string)
    const res = await exchange(h, 'tj.psb:household-registration', sent)
    t.equal(res.statusCode, 400, JSON.stringify(overrides))
    const body = res.json()
    t.equal(body.requestId, sent.id, 'the requestId is the envelope id (PROTOCOL.md "Errors")')
    t.equal(res.headers['x-request-id'], sent.id)
    t.equal(body.code, 'GOVEX_ERR_BAD_REQUEST')
    t.equal(body.problems[0].code, 'unrepresentable')
    t.match(body.message, /lone UTF-16 surrogate/)
  }
  t.equal(h.psb.received.length, before, 'the provider was never called')
  const exchanges = (await records(stores.audit)).filter(r => r.kind === 'exchange')
  t.equal(exchanges.length, cases.length, 'one audit record per request')
  t.ok(exchanges.every(r => r.status === 400 && r.outcome === 'denied'))
  t.same(exchanges.map(r => r.id), ids, 'each record names its envelope id')
  t.same(await stores.audit.verify(), { ok: true, checked: (await records(stores.audit)).length })
  // A well-formed pair (an emoji) is text like any other.
  const emoji = await exchange(h, 'tj.psb:household-registration', envelope({ userId: 'officer-\ud83d\ude00' }))
  t.equal(emoji.statusCode, 200)
  const last = (await records(stores.audit)).at(-1) as Record<string, unknown>
  t.equal(last.userId, 'officer-\ud83d\ude00')
})

t.test('lone surrogates in documents: 400, not 503, and audited', async t => {
  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID })
  t.teardown(async () => { await stores.close() })
  const h = await harness(t, { stores })
  const json = { 'content-type': 'application/json' }
  const directory = JSON.stringify({ ...hrssDirectory(h.hrss.url), version: 5 }).replace('Social insurance', 'Social \\ud800')
  const plan = JSON.stringify(samplePlan(7)).replace('Test sharing plan', '\\udfff')
  const member = JSON.stringify({ id: 'tj.fuzz', name: 'x\ud800', roles: ['agency'], keys: [h.actors.mca.publicJwk] })
  const disclosure = JSON.stringify({ agency: 'tj.psb', entries: [{ category: 'emergencies', title: '\ud800', publishedAt: '2026-01-01' }] })
  const answers = [
    await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.hrss', headers: { ...h.actors.hrss.auth(), ...json }, payload: directory }),
    await h.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...h.actors.operator.auth(), ...json }, payload: plan }),
    await h.app.inject({ method: 'PUT', url: '/v1/members/tj.fuzz', headers: { ...h.actors.operator.auth(), ...json }, payload: member }),
    await h.app.inject({ method: 'PUT', url: '/v1/disclosures/tj.psb', headers: { ...h.actors.psb.auth(), ...json }, payload: disclosure })
  ]
  for (const res of answers) {
    t.equal(res.statusCode, 400, res.body)
    t.equal(res.json().code, 'GOVEX_ERR_BAD_REQUEST')
  }
  const ids = new Set(answers.map(r => r.headers['x-request-id']))
  const audited = (await records(stores.audit)).filter(r => ids.has(r.id as string))
  t.equal(audited.length, 4, 'each refusal is audited')
  t.equal((await stores.audit.verify()).ok, true)
})

t.test('a plan id cut to 128 units for the audit target never ends on half a pair', async t => {
  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID })
  t.teardown(async () => { await stores.close() })
  const h = await harness(t, { stores })
  const res = await h.app.inject({ method: 'POST', url: '/v1/plans', headers: h.actors.operator.auth(), payload: { ...samplePlan(9), id: 'x'.repeat(127) + '\ud83d\ude00' } })
  t.equal(res.statusCode, 400)
  const record = (await records(stores.audit)).find(r => r.id === res.headers['x-request-id'])
  t.ok(record, 'the refusal is audited')
  t.equal(record?.target, 'x'.repeat(127) + '@9')
  t.equal((await stores.audit.verify()).ok, true)
})

t.test('an entry that cannot be sealed is recorded with U+FFFD, not lost', async t => {
  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID })
  t.teardown(async () => { await stores.close() })
  const writer = new AuditWriter(stores.audit, createMetrics())
  const request = {
    govex: {
      requestId: '0193a1c2-7c1e-7a35-9b7e-2a8c7c8b5e10', start: performance.now(), route: '/v1/exchange/:resourceId', config: {}, code: null, audited: false,
      principal: { id: 'tj.mca' },
      trail: { kind: 'exchange', resource: 'tj.psb:x', provider: 'tj.psb', purpose: 'p', userId: 'a\ud800', caseRef: '\udfffb', plan: null, grantId: null, fields: ['x\ud800'], digests: null }
    }
  }
  const record = await writer.record(request as never, 403, 'GOVEX_ERR_NO_GRANT') as unknown as Record<string, unknown>
  t.equal(record.userId, 'a\ufffd')
  t.equal(record.caseRef, '\ufffdb')
  t.same(record.fields, ['x\ufffd'])
  t.equal((await stores.audit.verify()).ok, true)
})

t.test('a large unrepresentable body to a route that does not exist: 400 or 404, and the gateway stays up', async t => {
  // bodies over 1 MiB are checked in a turn of their own, where a throw would end the process
  const h = await harness(t, { activate: false, config: raw => { raw.limits = { ...(raw.limits as object), bodyBytes: 4 * 1024 * 1024 } } })
  const pad = 'x'.repeat(1_100_000)
  for (const url of ['/anything', '/v1/members/x']) {
    const res = await h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: `{"pad":"${pad}","x":"\\ud800"}` })
    t.ok([400, 404].includes(res.statusCode), `${url}: ${res.statusCode}`)
    t.match(res.json(), { requestId: String }, 'a coded answer with a request id')
    t.notMatch(res.body, /__proto__/, 'not misreported as a __proto__ key')
  }
  const ready = await h.app.inject({ method: 'GET', url: '/healthz' })
  t.equal(ready.statusCode, 200, 'still serving')
})
