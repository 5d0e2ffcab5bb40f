// Regression: JSON text is UTF-8 (RFC 8259 §8.1). A consumer body or a
// provider answer whose bytes are not UTF-8 is not JSON — 400 and 502 as
// PROTOCOL.md says — instead of being decoded with U+FFFD in place of the bad
// bytes, which forwarded, audited and digested text nobody sent.
import t from 'tap'
import { sha256 } from '@govex/core'
import { harness, envelope, auditRecords } from './helpers/gateway.js'
import { answerData } from './helpers/provider.js'

const HOUSEHOLD = '/v1/exchange/tj.psb:household-registration'

/** The envelope's JSON with the first byte of `marker` replaced by 0xff (never valid in UTF-8). */
function corrupt (body: Record<string, unknown>, marker: string): Buffer {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8')
  bytes[bytes.indexOf(marker)] = 0xff
  return bytes
}

t.test('a consumer body that is not UTF-8 is 400, never forwarded', async t => {
  const h = await harness(t)
  const body = envelope({ userId: 'officer-4711' })
  const res = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: { ...h.actors.mca.auth(), 'content-type': 'application/json' }, payload: corrupt(body, 'officer') })
  t.equal(res.statusCode, 400, res.body)
  t.equal(res.json().code, 'GOVEX_ERR_BAD_REQUEST')
  t.match(res.json().problems, [{ code: 'json', path: '' }])
  t.equal(h.psb.received.length, 0, 'nothing reached the provider')
  const record = (await auditRecords(h)).at(-1)
  t.match(record, { kind: 'exchange', outcome: 'denied', code: 'GOVEX_ERR_BAD_REQUEST', status: 400, userId: null })

  const fine = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: { ...h.actors.mca.auth(), 'content-type': 'application/json' }, payload: Buffer.from(JSON.stringify(envelope({ userId: '警员-4711 \ufffd' })), 'utf8') })
  t.equal(fine.statusCode, 200, 'well-formed UTF-8, U+FFFD included, is accepted')
})

t.test('a provider answer that is not UTF-8 is 502', async t => {
  const h = await harness(t)
  h.psb.behave((_received, res) => {
    const bytes = Buffer.from(JSON.stringify({ data: { name: 'Zhang San', householdAddress: 'Heping' } }), 'utf8')
    bytes[bytes.indexOf('Zhang')] = 0xc3
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length })
    res.end(bytes)
  })
  const body = envelope()
  const res = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: h.actors.mca.auth(), payload: body })
  t.equal(res.statusCode, 502, res.body)
  t.equal(res.json().code, 'GOVEX_ERR_UPSTREAM')
  t.match((await auditRecords(h)).at(-1), { id: body.id, outcome: 'error', code: 'GOVEX_ERR_UPSTREAM', status: 502, digests: { request: sha256(h.psb.received.at(-1)!.body), response: null } })

  h.psb.behave(answerData({ name: '张三', householdAddress: '和平区' }))
  const ok = await h.app.inject({ method: 'POST', url: HOUSEHOLD, headers: h.actors.mca.auth(), payload: envelope() })
  t.equal(ok.statusCode, 200)
  t.same(ok.json().data, { name: '张三', householdAddress: '和平区' })
})
