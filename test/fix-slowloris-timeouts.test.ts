// Regression: the gateway left Fastify's requestTimeout and connectionTimeout at
// 0 (off), so a client trickling a body one byte at a time held its connection
// forever (slowloris). Now a request must arrive within REQUEST_TIMEOUT_MS,
// headers within HEADERS_TIMEOUT_MS (kept below it: with Node's default 60 s
// above the request timeout, Node cut trickling requests only after ~90 s), and
// a silent socket is closed after CONNECTION_TIMEOUT_MS. Node checks every 30 s,
// so the real trickle (cut within ~60 s) runs in `pnpm test:stress` (soak).
import t from 'tap'
import { harness } from '../packages/gateway/test/helpers/gateway.js'
import { CONNECTION_TIMEOUT_MS, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../packages/gateway/src/index.js'

t.test('slow clients: the gateway sets request and connection timeouts', async t => {
  const h = await harness(t, { activate: false })
  await h.app.ready()
  const server = h.app.server
  t.equal(server.requestTimeout, REQUEST_TIMEOUT_MS, 'requestTimeout set (headers and body must arrive in time)')
  t.ok(REQUEST_TIMEOUT_MS > 0 && REQUEST_TIMEOUT_MS <= 60_000)
  t.equal(server.headersTimeout, HEADERS_TIMEOUT_MS, 'headersTimeout set')
  // Node cuts a trickling request late (~90 s) when headersTimeout is above requestTimeout.
  t.ok(server.headersTimeout < server.requestTimeout, 'headersTimeout below requestTimeout')
  t.equal(server.timeout, CONNECTION_TIMEOUT_MS, 'an idle socket is closed')
  t.ok(CONNECTION_TIMEOUT_MS > 600_000, 'but never before the longest provider deadline (600 s)')
  t.ok(server.keepAliveTimeout > 0 && server.keepAliveTimeout < 120_000, 'keep-alive bounded')
})

