// A request that reaches a stopping gateway (on a connection still busy with an
// in-flight exchange) is refused like every other error (PROTOCOL.md "Errors"):
// 503 GOVEX_ERR_UNAVAILABLE in the error body, with its requestId in x-request-id
// — not Fastify's own closing answer, which has neither.
import t from 'tap'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { startGateway } from '../src/index.js'
import { activatePlan, envelope } from './helpers/gateway.js'
import { createDeployment, samplePlan } from './helpers/deployment.js'

interface RawResponse { status: number, headers: Record<string, string>, body: string }

/** Reads HTTP/1.1 responses off a raw socket, in order (content-length bodies only). */
function responses (socket: Socket): () => Promise<RawResponse> {
  let buffered = ''
  const waiting: Array<() => void> = []
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => { buffered += chunk; waiting.splice(0).forEach(w => { w() }) })
  socket.on('close', () => { waiting.splice(0).forEach(w => { w() }) })
  return async () => {
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n')
      if (end !== -1) {
        const [statusLine = '', ...lines] = buffered.slice(0, end).split('\r\n')
        const headers: Record<string, string> = {}
        for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim()
        const length = Number(headers['content-length'] ?? 0)
        if (buffered.length >= end + 4 + length) {
          const body = buffered.slice(end + 4, end + 4 + length)
          buffered = buffered.slice(end + 4 + length)
          return { status: Number(statusLine.split(' ')[1]), headers, body }
        }
      }
      if (socket.destroyed) throw new Error('connection closed before a whole response: ' + buffered)
      await new Promise<void>(resolve => waiting.push(resolve))
    }
  }
}

t.test('a request met while the gateway stops gets the PROTOCOL.md error body and x-request-id', async t => {
  const d = await createDeployment()
  t.teardown(() => d.cleanup())
  const running = await startGateway(d.config, { signals: false, logger: false })
  t.teardown(() => running.close())
  await activatePlan({ ...d, app: running.app }, samplePlan())
  let release: () => void = () => {}
  d.psb.behave((_received, res) => {
    release = () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ data: { name: 'Late', householdAddress: 'X' } }))
    }
  })
  const { port } = new URL(running.url)
  const socket = connect(Number(port), '127.0.0.1')
  t.teardown(() => socket.destroy())
  await new Promise<void>(resolve => socket.once('connect', resolve))
  const next = responses(socket)
  const body = JSON.stringify(envelope())
  socket.write(`POST /v1/exchange/tj.psb:household-registration HTTP/1.1\r\nhost: gw\r\nauthorization: ${d.actors.mca.auth().authorization as string}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  while (d.psb.received.length === 0) await new Promise(resolve => setTimeout(resolve, 10))

  const stopped = running.close()
  await new Promise(resolve => setTimeout(resolve, 50))
  // the connection is busy, so it stays open: a second request on it meets the stopping gateway
  socket.write(`GET /v1/catalog HTTP/1.1\r\nhost: gw\r\nauthorization: ${d.actors.mca.auth().authorization as string}\r\n\r\n`)
  await new Promise(resolve => setTimeout(resolve, 50))
  release()
  t.equal((await next()).status, 200, 'the in-flight exchange finished')
  const refused = await next()
  t.equal(refused.status, 503)
  const error = JSON.parse(refused.body) as Record<string, unknown>
  t.match(error, { statusCode: 503, code: 'GOVEX_ERR_UNAVAILABLE', error: 'Service Unavailable', message: /stopping/ })
  t.match(error.requestId, /^[0-9a-f-]{36}$/)
  t.equal(refused.headers['x-request-id'], error.requestId as string, 'x-request-id is the requestId')
  t.equal(refused.headers.connection, 'close', 'the client is told to go elsewhere')
  await stopped
})
