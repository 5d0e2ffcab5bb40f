// A provider agency's server for tests: node:http on a real socket, recording
// what the gateway sends (headers, exact body bytes) and answering as each test
// says — data, errors, hangs, resets, huge bodies.
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { PublicJwk } from '@govex/core'

export interface Received {
  path: string
  headers: IncomingMessage['headers']
  body: Buffer
}

export type Behaviour = (received: Received, res: ServerResponse, req: IncomingMessage) => void

export interface Provider {
  url: string
  received: Received[]
  /** how the next requests are answered */
  behave (behaviour: Behaviour): void
  close (): Promise<void>
}

/** Answers `{ data }` with status 200. */
export function answerData (data: unknown): Behaviour {
  return (_received, res) => {
    const body = JSON.stringify({ data })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }
}

export async function startProvider (_gatewayKey: PublicJwk, _id: string): Promise<Provider> {
  const received: Received[] = []
  let behaviour: Behaviour = answerData({ name: 'Zhang San', householdAddress: 'Heping District', idNumber: '120101199001011234', birthDate: '1990-01-01' })
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }
      received.push(r)
      behaviour(r, res, req)
    })
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    behave (next) { behaviour = next },
    async close () {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
