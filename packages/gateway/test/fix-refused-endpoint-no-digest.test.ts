// A 502 for an endpoint URL the forwarder refuses before any connection (a
// stored directory whose host a tightened upstream.allowHosts no longer
// allows) recorded the request digest in the audit record, as if the provider
// might hold those bytes: the refusal did not say the body was never sent, and
// the route clears digests only when told so. Now it does, and the record has
// `digests: null`, as docs/auditor-guide.md says of a body that never reached a
// socket to the provider.
import t from 'tap'
import { buildGateway, resolveConfig } from '../src/index.js'
import { Forwarder } from '../src/forward.js'
import { createDeployment, samplePlan } from './helpers/deployment.js'
import { activatePlan, auditRecords, envelope, exchange } from './helpers/gateway.js'

const HOUSEHOLD = 'tj.psb:household-registration'

t.test('an endpoint host outside upstream.allowHosts: a 502 whose audit record names no request digest', async t => {
  const d = await createDeployment()
  t.teardown(() => d.cleanup())
  // the first gateway stores the directories (http://127.0.0.1:<port>/…) and the active plan
  const first = await buildGateway({ config: d.config })
  try {
    await activatePlan({ ...d, app: first }, samplePlan())
  } finally {
    await first.close()
  }
  // the same data folder under a config that no longer allows 127.0.0.1
  const tightened = resolveConfig({ ...d.raw, upstream: { allowHosts: ['localhost'] } }, { dir: d.dir, file: d.configFile })
  const app = await buildGateway({ config: tightened })
  t.teardown(() => app.close())
  const h = { ...d, app }

  const body = envelope()
  const res = await exchange(h, HOUSEHOLD, body)
  t.equal(res.statusCode, 502, res.body)
  t.equal(res.json().code, 'GOVEX_ERR_UPSTREAM')
  t.match(res.json().message, /endpoint URL cannot be used/)
  t.equal(d.psb.received.length, 0, 'nothing reached the provider')
  const records = (await auditRecords(h)).filter(r => r.id === body.id)
  t.match(records, [{ outcome: 'error', code: 'GOVEX_ERR_UPSTREAM', status: 502, provider: 'tj.psb' }], 'one record of the 502')
  t.equal(records[0]?.digests, null, 'no request digest: the body never left the gateway')
})

t.test('the forwarder says a refused endpoint URL was never sent', async t => {
  const forwarder = new Forwarder({ connections: 1, allowHosts: ['localhost'] })
  t.teardown(() => forwarder.close())
  for (const url of ['http://10.9.9.9/x', 'not a url']) {
    const err = await forwarder.forward('tj.psb', url, Buffer.from('{}'), 'token', 1000, 1024).then(() => undefined, (e: unknown) => e as Error & { code?: string, requestSent?: boolean })
    t.equal(err?.code, 'GOVEX_ERR_UPSTREAM', url)
    t.equal(err?.requestSent, false, `${url}: requestSent false`)
  }
})
