// Regression: an exchange record's `digests` was either both digests or null,
// so a 502/504 after the forward could not say which body the provider was
// sent. AuditDigests takes `response: null` beside the request digest; the
// record schema (GET /v1/audit, OpenAPI) says so, and such a record seals,
// reads back and verifies like any other.
import t from 'tap'
import { AuditDigests, AuditRecord, ExchangeDigests, ZERO_DIGEST, createAjv, openMemoryStores, sealRecord } from '../src/index.js'
import { exchangeEntry } from '../src/store/audit-contract.js'

const REQUEST = 'sha256:' + 'a'.repeat(64)

t.test('the audit record schema takes a request digest without a response digest', async t => {
  const ajv = createAjv()
  const record = sealRecord(exchangeEntry({ outcome: 'error', code: 'GOVEX_ERR_UPSTREAM', status: 502, digests: { request: REQUEST, response: null } }),
    { gatewayId: 'tj.gw.extranet-1', seq: 1, ts: '2026-11-28T10:00:00.000Z', prevHash: ZERO_DIGEST })
  const valid = ajv.compile(AuditRecord)
  t.ok(valid(record), JSON.stringify(valid.errors))
  t.ok(ajv.compile(AuditDigests)({ request: REQUEST, response: null }))
  t.notOk(ajv.compile(AuditDigests)({ request: null, response: REQUEST }), 'the request digest is never null inside digests')
  t.notOk(ajv.compile(ExchangeDigests)({ request: REQUEST, response: null }), 'a 200 answer still carries both')
})

t.test('such a record is appended, read back and verified', async t => {
  const stores = await openMemoryStores({ gatewayId: 'tj.gw.extranet-1' })
  t.teardown(async () => { await stores.close() })
  const appended = await stores.audit.append(exchangeEntry({ outcome: 'error', code: 'GOVEX_ERR_UPSTREAM_TIMEOUT', status: 504, digests: { request: REQUEST, response: null } }))
  const read = []
  for await (const r of stores.audit.scan({ outcome: 'error' })) read.push(r)
  t.same(read, [appended])
  t.same((read[0] as { digests: unknown }).digests, { request: REQUEST, response: null })
  t.equal((await stores.audit.verify()).ok, true)
})
