// A directory update that moves a provider's endpoint to another origin left
// the old origin's undici Pool, and its keep-alive sockets, open for the life
// of the gateway: one leaked pool per endpoint origin ever used. Pools now
// follow the catalog, and a pool no endpoint uses is closed.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { envelope, exchange, expectOk, harness } from './helpers/gateway.js'
import { psbDirectory } from './helpers/deployment.js'
import { waitFor } from './helpers/wait.js'

t.test('moving an endpoint closes the pool of the origin no endpoint uses', async t => {
  const h = await harness(t)
  const sockets = new Set<Socket>()
  const moved = createServer((_req, res) => {
    const body = JSON.stringify({ data: { name: 'Zhang San', householdAddress: 'Heping District' } })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  moved.on('connection', socket => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)) })
  await new Promise<void>(resolve => moved.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { for (const s of sockets) s.destroy(); moved.close(() => resolve()) }))
  const movedUrl = `http://127.0.0.1:${(moved.address() as AddressInfo).port}`

  const put = async (url: string): Promise<void> => {
    const directory = psbDirectory(url)
    expectOk(await h.app.inject({ method: 'PUT', url: '/v1/directories/tj.psb', headers: h.actors.operator.auth(), payload: directory }))
  }
  await put(movedUrl)
  t.equal((await exchange(h, 'tj.psb:household-registration', envelope())).statusCode, 200, 'answered by the moved endpoint')
  t.equal(sockets.size, 1, 'the gateway keeps a socket to it alive')

  await put(h.psb.url)
  const started = Date.now()
  // the keep-alive timeout is 3 s: a socket gone well before it was closed by the gateway
  const open = await waitFor(1000, () => sockets.size, size => size === 0)
  t.equal(open, 0, `the old origin's socket is closed (${Date.now() - started} ms after the update)`)
  t.equal((await exchange(h, 'tj.psb:household-registration', envelope())).statusCode, 200, 'the endpoint in the catalog still answers')
  t.equal(sockets.size, 0, 'and the old origin is not used again')
})
