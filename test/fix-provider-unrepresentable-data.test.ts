// Regression: a provider answering a number beyond a double (1e400 parses as
// Infinity) or a lone surrogate ("\ud800") in a granted field made the response
// digest throw, answered as an internal 503. It is the provider's fault: 502
// GOVEX_ERR_UPSTREAM, audited as an error. A consumer's 1e400 in the query was
// forwarded as null; it is now refused with a 400 naming the path.
import t from 'tap'
import { openMemoryStores } from '@govex/core'
import { harness, envelope, exchange } from '../packages/gateway/test/helpers/gateway.js'
import { GATEWAY_ID } from '../packages/gateway/test/helpers/deployment.js'

t.test('provider data JSON cannot carry: 502, audited', async t => {
  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID })
  t.teardown(async () => { await stores.close() })
  const h = await harness(t, { stores })
  for (const text of ['{"data":{"name":1e400}}', '{"data":{"name":"\\ud800"}}', '{"data":[{"householdAddress":-1e999}]}']) {
    h.psb.behave((_r, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(text) })
    const res = await exchange(h, 'tj.psb:household-registration', envelope())
    t.equal(res.statusCode, 502, text)
    t.equal(res.json().code, 'GOVEX_ERR_UPSTREAM')
  }
  // Outside the granted fields it is minimised away and harms nothing.
  h.psb.behave((_r, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"data":{"name":"Zhang","idNumber":1e400}}') })
  const ok = await exchange(h, 'tj.psb:household-registration', envelope())
  t.equal(ok.statusCode, 200)
  t.same(ok.json().data, { name: 'Zhang' })
  const errors = []
  for await (const r of stores.audit.scan({ kind: 'exchange', outcome: 'error' })) errors.push(r)
  t.equal(errors.length, 3, 'each 502 is audited as an error')
  t.equal((await stores.audit.verify()).ok, true)
})

t.test('a consumer number beyond a double is refused, not forwarded as null', async t => {
  const h = await harness(t)
  const before = h.psb.received.length
  const res = await h.app.inject({
    method: 'POST', url: '/v1/exchange/tj.psb:household-registration', headers: { ...h.actors.mca.auth(), 'content-type': 'application/json' },
    payload: JSON.stringify(envelope({ query: { idNumber: 0 } })).replace('"idNumber":0', '"idNumber":1e400')
  })
  t.equal(res.statusCode, 400)
  t.equal(res.json().problems[0].path, '/query/idNumber')
  t.equal(h.psb.received.length, before, 'never forwarded')
  // Ordinary exponents are numbers like any other.
  const fine = await exchange(h, 'tj.psb:household-registration', envelope({ query: { idNumber: 1.5e300 } }))
  t.equal(fine.statusCode, 200)
})
