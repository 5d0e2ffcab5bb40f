// Regression: upstream.allowHosts was checked only when a directory was PUT.
// A directory already in the store — written before the operator tightened
// allowHosts, or by another gateway sharing the store with another config —
// was forwarded to whatever host it named. The forwarder now checks each
// endpoint URL against allowHosts too (once per URL): 502, and the host is
// never called.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { openMemoryStores } from '@govex/core'
import { harness, envelope, exchange } from '../packages/gateway/test/helpers/gateway.js'
import { GATEWAY_ID, hrssDirectory } from '../packages/gateway/test/helpers/deployment.js'
import { waitFor } from '../packages/gateway/test/helpers/wait.js'

t.test('a stored endpoint outside upstream.allowHosts is never called', async t => {
  let hits = 0
  const victim = createServer((_req, res) => { hits++; res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"data":{"contributionStatus":"internal secret"}}') })
  // 127.0.0.2 is loopback too, but not in the deployment's allowHosts (127.0.0.1, localhost).
  await new Promise<void>(resolve => victim.listen(0, '127.0.0.2', resolve))
  t.teardown(() => new Promise<void>(resolve => victim.close(() => resolve())))
  const url = `http://127.0.0.2:${(victim.address() as AddressInfo).port}/insurance`

  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID })
  t.teardown(async () => { await stores.close() })
  const h = await harness(t, { stores })
  // Through the API it is refused...
  const doc = hrssDirectory(h.hrss.url)
  const put = await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.hrss', headers: h.actors.hrss.auth(), payload: { ...doc, version: 2, resources: doc.resources.map(r => ({ ...r, endpoint: { url } })) } })
  t.equal(put.statusCode, 422, 'PUT refuses the host')
  // ...but the store may hold it all the same.
  await stores.directories.put({ ...doc, version: 3, resources: doc.resources.map(r => ({ ...r, endpoint: { url } })) })
  // the gateway's watcher rebuilds the catalog in the background: wait (bounded) until it serves the stored endpoint
  const served = async (): Promise<string> => (await h.app.inject({ method: 'GET', url: '/v1/catalog/tj.hrss:social-insurance', headers: h.actors.operator.auth() })).json().endpoint.url
  t.equal(await waitFor(5000, served, seen => seen === url), url, 'the gateway serves the stored directory')

  const res = await exchange(h, 'tj.hrss:social-insurance', envelope())
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'GOVEX_ERR_UPSTREAM')
  t.equal(hits, 0, 'the disallowed host was never called')
  // An allowed endpoint still works through the same forwarder.
  await stores.directories.put({ ...doc, version: 4 })
  t.equal(await waitFor(5000, served, seen => seen !== url), h.hrss.url + '/insurance', 'the gateway serves the allowed endpoint again')
  t.equal((await exchange(h, 'tj.hrss:social-insurance', envelope())).statusCode, 200)
})
