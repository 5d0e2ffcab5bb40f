// The consumer client against a real gateway on a real socket: typed happy
// path, every refusal as a GovexRequestError with its PROTOCOL.md code, one
// token signature for many calls, resends of the same envelope only when its
// request was not sent (PROTOCOL.md "Exchange"), an unknown outcome reported as
// such and never resent, no retry after a 4xx, timeout and abort. Providers
// behind the gateway verify its calls with the SDK.
import t from 'tap'
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { Pool, type Dispatcher } from 'undici'
import { harness, auditRecords } from '../../gateway/test/helpers/gateway.js'
import { answerData } from '../../gateway/test/helpers/provider.js'
import { PURPOSE } from '../../gateway/test/helpers/deployment.js'
import { waitFor } from '../../gateway/test/helpers/wait.js'
import type { Actor } from '../../gateway/test/helpers/deployment.js'
import { createClient, createGatewayVerifier, GovexRequestError, type GovexClient } from '../src/index.js'

interface Resources {
  'tj.psb:household-registration': { name: string, householdAddress: string, idNumber: string, birthDate: string }
  [id: string]: Record<string, unknown>
}

const QUERY = { idNumber: '120101199001011234' }

type Tap = typeof t

async function setup (t: Tap) {
  const h = await harness(t)
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`
  const clientOf = (actor: Actor, options: { gatewayUrl?: string, timeoutMs?: number, retries?: number, dispatcher?: Dispatcher } = {}): GovexClient<Resources> => {
    const client = createClient<Resources>({ gatewayUrl: options.gatewayUrl ?? url, memberId: actor.id, privateKey: actor.privateJwk, gatewayId: h.config.gatewayId, timeoutMs: options.timeoutMs, retries: options.retries, dispatcher: options.dispatcher })
    t.teardown(() => client.close())
    return client
  }
  return { h, url, clientOf }
}

async function refusal (p: Promise<unknown>): Promise<GovexRequestError> {
  try {
    await p
  } catch (err) {
    if (err instanceof GovexRequestError) return err
    throw err
  }
  throw new Error('expected a refusal')
}

t.test('happy path, typed end to end; the provider verifies the gateway call with the SDK', async t => {
  const { h, clientOf } = await setup(t)
  const verify = createGatewayVerifier({ providerId: 'tj.psb', gatewayKeys: [{ gatewayId: h.config.gatewayId, key: h.actors.gateway.publicJwk }] })
  const verified: boolean[] = []
  const data = answerData({ name: 'Zhang San', householdAddress: 'Heping District', idNumber: '120101199001011234', birthDate: '1990-01-01' })
  h.psb.behave((received, res, req) => {
    const result = verify(received.headers, received.body)
    verified.push(result.ok)
    data(received, res, req)
  })
  const client = clientOf(h.actors.mca)
  const res = await client.request('tj.psb:household-registration', { purpose: PURPOSE, fields: ['name'], query: QUERY, caseRef: 'MCA-1', userId: 'officer-1' })
  t.equal(res.resource, 'tj.psb:household-registration')
  t.equal(res.consumer, 'tj.mca')
  t.same(res.fields, ['name'])
  t.same(res.data, { name: 'Zhang San' })
  const name: string | undefined = Array.isArray(res.data) || res.data === null ? undefined : res.data.name
  t.equal(name, 'Zhang San')
  t.match(res.digests.request, /^sha256:/)
  t.ok(res.auditSeq > 0)
  t.same(verified, [true], 'the provider accepted the genuine gateway call')
})

t.test('one token signature serves many calls', async t => {
  const { h, clientOf } = await setup(t)
  const client = clientOf(h.actors.mca)
  for (let i = 0; i < 10; i++) await client.request('tj.psb:household-registration', { purpose: PURPOSE, query: QUERY, caseRef: 'MCA-1' })
  await client.grantsMine()
  await client.catalog()
  t.equal(client.tokensSigned, 1)
})

t.test('every refusal surfaces as a GovexRequestError with its code', async t => {
  const { h, clientOf } = await setup(t)
  const mca = clientOf(h.actors.mca)
  const cases: Array<[string, () => Promise<unknown>, string, number]> = [
    ['no grant', () => clientOf(h.actors.hrss).request('tj.psb:household-registration', { purpose: PURPOSE, query: QUERY }), 'GOVEX_ERR_NO_GRANT', 403],
    ['purpose', () => mca.request('tj.psb:household-registration', { purpose: 'curiosity', query: QUERY, caseRef: 'c' }), 'GOVEX_ERR_PURPOSE_NOT_GRANTED', 403],
    ['fields', () => mca.request('tj.psb:household-registration', { purpose: PURPOSE, fields: ['name', 'idNumber'], query: QUERY, caseRef: 'c' }), 'GOVEX_ERR_FIELDS_NOT_GRANTED', 403],
    ['condition', () => mca.request('tj.psb:household-registration', { purpose: PURPOSE, query: QUERY }), 'GOVEX_ERR_CONDITION_UNMET', 403],
    ['query', () => mca.request('tj.psb:household-registration', { purpose: PURPOSE, caseRef: 'c' }), 'GOVEX_ERR_BAD_REQUEST', 400],
    ['unknown resource', () => mca.request('tj.psb:nothing-here', { purpose: PURPOSE }), 'GOVEX_ERR_NOT_FOUND', 404],
    ['zone', () => mca.request('tj.psb:case-files', { purpose: PURPOSE }), 'GOVEX_ERR_ZONE', 403],
    ['role', () => clientOf(h.actors.operator).request('tj.psb:household-registration', { purpose: PURPOSE }), 'GOVEX_ERR_FORBIDDEN_ROLE', 403],
    ['bad purpose form', () => mca.request('tj.psb:household-registration', { purpose: 'Not A Token' }), 'GOVEX_ERR_BAD_REQUEST', 400]
  ]
  for (const [name, call, code, status] of cases) {
    const err = await refusal(call())
    t.equal(err.code, code, name)
    t.equal(err.statusCode, status, name)
    t.ok(err.requestId, `${name}: carries the request id`)
  }
  const bad = await refusal(mca.request('tj.psb:household-registration', { purpose: 'Not A Token' }))
  t.ok(bad.problems !== undefined && bad.problems.length > 0, '400 lists its problems')

  const forged = createClient({ gatewayUrl: `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`, memberId: 'tj.mca', privateKey: h.actors.hrss.privateJwk, gatewayId: h.config.gatewayId })
  t.teardown(() => forged.close())
  t.equal((await refusal(forged.catalog())).code, 'GOVEX_ERR_UNAUTHENTICATED')

  const quota: string[] = []
  for (let i = 0; i < 3; i++) {
    await mca.request('tj.hrss:social-insurance', { purpose: PURPOSE, query: QUERY }).then(() => quota.push('ok'), (e: GovexRequestError) => quota.push(e.code))
  }
  t.same(quota, ['ok', 'ok', 'GOVEX_ERR_QUOTA'])

  h.psb.behave((_r, res) => { res.writeHead(500); res.end('stack trace of the provider') })
  const upstream = await refusal(mca.request('tj.psb:household-registration', { purpose: PURPOSE, query: QUERY, caseRef: 'c' }))
  t.equal(upstream.code, 'GOVEX_ERR_UPSTREAM')
  t.notMatch(upstream.message, /stack trace/)

  h.psb.behave(() => {})
  const slow = await refusal(mca.request('tj.psb:household-registration', { purpose: PURPOSE, query: QUERY, caseRef: 'c', timeoutMs: 5000 }))
  t.equal(slow.code, 'GOVEX_ERR_UPSTREAM_TIMEOUT')
  t.equal(slow.statusCode, 504)
})

t.test('the same envelope id twice is a replay', async t => {
  const { h, clientOf } = await setup(t)
  const client = clientOf(h.actors.mca)
  const id = randomUUID()
  await client.request('tj.psb:household-registration', { id, purpose: PURPOSE, query: QUERY, caseRef: 'c' })
  const err = await refusal(client.request('tj.psb:household-registration', { id, purpose: PURPOSE, query: QUERY, caseRef: 'c' }))
  t.equal(err.code, 'GOVEX_ERR_REPLAY')
  t.equal(err.requestId, id)
})

type ProxyMode =
  | 'pass'
  // the gateway gets the request and answers; the client's connection is reset before the answer reaches it
  | 'reset-after-answer'
  // the request is read, never forwarded, and the connection reset
  | 'reset-after-request'

/** A TCP proxy in front of the gateway that misbehaves (`mode`) on its first `drops` connections. */
async function proxy (t: Tap, target: string, mode: ProxyMode, drops = 1, port = 0): Promise<{ url: string, connections: () => number }> {
  const upstreamPort = Number(new URL(target).port)
  let connections = 0
  const open = new Set<Socket>()
  const server: Server = createServer((client: Socket) => {
    connections++
    open.add(client)
    client.on('close', () => open.delete(client))
    const misbehave = connections <= drops ? mode : 'pass'
    client.on('error', () => {})
    if (misbehave === 'reset-after-request') {
      client.once('data', () => client.resetAndDestroy())
      return
    }
    const upstream = connect(upstreamPort, '127.0.0.1')
    client.pipe(upstream)
    if (misbehave === 'reset-after-answer') {
      upstream.once('data', () => { client.resetAndDestroy(); upstream.destroy() })
    } else {
      upstream.pipe(client)
    }
    client.on('close', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })
  await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
  // kept-alive connections would hold close() open
  t.teardown(() => new Promise<void>(resolve => { server.close(() => resolve()); for (const socket of open) socket.destroy() }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections }
}

/** A port nothing listens on (for now). */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

/** A raw HTTP server that answers every request with `answer` once it has read it. */
async function rawServer (t: Tap, answer: (socket: Socket) => void): Promise<{ url: string, connections: () => number }> {
  let connections = 0
  const server = createServer(socket => {
    connections++
    socket.on('error', () => {})
    socket.once('data', () => answer(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections }
}

t.test('a refused connection: the same envelope is resent, and the exchange happens once the gateway is up', async t => {
  const { h, url, clientOf } = await setup(t)
  const port = await freePort()
  const gatewayUrl = `http://127.0.0.1:${port}`
  const pool = new Pool(gatewayUrl)
  t.teardown(() => pool.close())
  const refused: string[] = []
  let up: Promise<{ connections: () => number }> | undefined
  // the gateway (behind a proxy on the refused port) comes up when the first connection was refused
  pool.once('connectionError', (_origin, _targets, err) => {
    refused.push(err.code)
    up = proxy(t, url, 'pass', 0, port)
  })
  const client = clientOf(h.actors.mca, { gatewayUrl, dispatcher: pool })
  const id = randomUUID()
  const res = await client.request('tj.psb:household-registration', { id, purpose: PURPOSE, query: QUERY, caseRef: 'c' })
  t.equal(res.requestId, id)
  t.same(refused, ['ECONNREFUSED'], 'the first attempt was refused: nothing was sent')
  t.equal((await up)?.connections(), 1, 'the resend reached the gateway')
  const records = (await auditRecords(h)).filter(r => r.id === id)
  t.same(records.map(r => r.outcome), ['allowed'], 'exactly one exchange')
})

t.test('fix-no-resend-after-sending: an answer lost after the gateway processed it is not resent; the outcome is unknown', async t => {
  const { h, url, clientOf } = await setup(t)
  const lossy = await proxy(t, url, 'reset-after-answer')
  const client = clientOf(h.actors.mca, { gatewayUrl: lossy.url })
  const id = randomUUID()
  const err = await refusal(client.request('tj.psb:household-registration', { id, purpose: PURPOSE, query: QUERY, caseRef: 'c' }))
  t.equal(err.code, 'GOVEX_ERR_CLIENT_OUTCOME_UNKNOWN')
  t.equal(err.outcomeUnknown, true)
  t.equal(err.requestId, id, 'the envelope id to look up')
  t.equal(err.statusCode, undefined)
  t.match(err.message, id)
  t.match(err.message, /do not resend/i)
  t.match(err.message, /audit log/)
  t.match(err.message, /new envelope id/)
  t.equal(lossy.connections(), 1, 'no second connection: the envelope was not resent')
  const records = (await auditRecords(h)).filter(r => r.id === id)
  t.same(records.map(r => r.outcome), ['allowed'], 'one exchange, and no replay attempt')
  t.equal(h.psb.received.filter(r => r.body.toString().includes(id)).length, 1, 'the provider was asked once')
})

t.test('fix-no-resend-after-sending: a server that resets the connection after reading the request is not asked again', async t => {
  const { h, clientOf } = await setup(t)
  const server = await rawServer(t, socket => socket.resetAndDestroy())
  const client = clientOf(h.actors.mca, { gatewayUrl: server.url, retries: 5 })
  const err = await refusal(client.request('tj.psb:household-registration', { purpose: PURPOSE, query: QUERY, caseRef: 'c' }))
  t.equal(err.code, 'GOVEX_ERR_CLIENT_OUTCOME_UNKNOWN')
  t.equal(err.outcomeUnknown, true)
  t.equal(server.connections(), 1, 'one attempt only')
})

t.test('a read (GET) is repeated after a reset: it changes nothing at the gateway', async t => {
  const { h, url, clientOf } = await setup(t)
  const flaky = await proxy(t, url, 'reset-after-request')
  const client = clientOf(h.actors.mca, { gatewayUrl: flaky.url })
  t.ok((await client.grantsMine()).length > 0)
  t.equal(flaky.connections(), 2)
  const dead = await rawServer(t, socket => socket.resetAndDestroy())
  const err = await refusal(clientOf(h.actors.mca, { gatewayUrl: dead.url, retries: 1 }).catalog())
  t.equal(err.code, 'GOVEX_ERR_CLIENT_NETWORK')
  t.equal(err.outcomeUnknown, false, 'a read has no outcome to lose')
  t.equal(dead.connections(), 2)
})

t.test('an answer that is not a gateway\'s verdict leaves an exchange\'s outcome unknown', async t => {
  const { h, clientOf } = await setup(t)
  const reply = (status: string, type: string, body: string) => (socket: Socket) =>
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: ${type}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  const answers: Array<[string, (socket: Socket) => void, string]> = [
    ['a proxy\'s HTML error page', reply('502 Bad Gateway', 'text/html', '<html>bad gateway</html>'), 'GOVEX_ERR_CLIENT_BAD_RESPONSE'],
    ['JSON without a code', reply('504 Gateway Timeout', 'application/json', '{"message":"upstream timed out"}'), 'GOVEX_ERR_CLIENT_BAD_RESPONSE'],
    ['an answer cut off in its body', socket => { socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"data":'); setTimeout(() => socket.resetAndDestroy(), 20) }, 'GOVEX_ERR_CLIENT_OUTCOME_UNKNOWN']
  ]
  for (const [name, answer, code] of answers) {
    const server = await rawServer(t, answer)
    const id = randomUUID()
    const err = await refusal(clientOf(h.actors.mca, { gatewayUrl: server.url }).request('tj.psb:household-registration', { id, purpose: PURPOSE, query: QUERY, caseRef: 'c' }))
    t.equal(err.code, code, name)
    t.equal(err.outcomeUnknown, true, name)
    t.equal(err.requestId, id, name)
    t.ok(err.statusCode !== undefined, `${name}: the status is kept`)
    t.match(err.message, /audit log/, name)
    t.equal(server.connections(), 1, `${name}: not resent`)
  }
})

t.test('no retry after a 4xx', async t => {
  const { h, url, clientOf } = await setup(t)
  const direct = await proxy(t, url, 'pass', 0)
  const client = clientOf(h.actors.mca, { gatewayUrl: direct.url })
  const id = randomUUID()
  const err = await refusal(client.request('tj.psb:household-registration', { id, purpose: 'curiosity', query: QUERY }))
  t.equal(err.code, 'GOVEX_ERR_PURPOSE_NOT_GRANTED')
  t.equal(err.outcomeUnknown, false, 'the gateway answered')
  t.equal(direct.connections(), 1)
  t.equal((await auditRecords(h)).filter(r => r.id === id).length, 1, 'one request reached the gateway')
})

t.test('an unreachable gateway fails with a network code after the resends; nothing was sent', async t => {
  const port = await freePort()
  const { privateJwk } = (await import('@govex/core')).generateKeyPair('k')
  const client = createClient({ gatewayUrl: `http://127.0.0.1:${port}`, memberId: 'tj.mca', privateKey: privateJwk, gatewayId: 'gw', retries: 1 })
  t.teardown(() => client.close())
  t.equal((await refusal(client.catalog())).code, 'GOVEX_ERR_CLIENT_NETWORK')
  const id = randomUUID()
  const err = await refusal(client.request('tj.psb:household-registration', { id, purpose: PURPOSE }))
  t.equal(err.code, 'GOVEX_ERR_CLIENT_NETWORK')
  t.equal(err.outcomeUnknown, false)
  t.equal(err.requestId, id)
  t.match(err.message, /was not sent/)
})

t.test('timeout and abort', async t => {
  const { h, clientOf } = await setup(t)
  h.psb.behave(() => {})
  // the deadline must leave time to sign, connect and send (outcomeUnknown), on a loaded machine too,
  // and still come before the gateway's own upstream deadline (1 s in the test deployment), which would answer 504
  const client = clientOf(h.actors.mca, { timeoutMs: 500 })
  const id = randomUUID()
  const timedOut = await refusal(client.request('tj.psb:household-registration', { id, purpose: PURPOSE, query: QUERY, caseRef: 'c' }))
  t.equal(timedOut.code, 'GOVEX_ERR_CLIENT_TIMEOUT')
  t.equal(timedOut.outcomeUnknown, true, 'the request was sent: the gateway may have processed it')
  t.equal(timedOut.requestId, id)
  t.match(timedOut.message, /audit log/)
  const controller = new AbortController()
  // abort once the provider holds the request (so it was sent), not after a fixed time that a loaded machine may overrun
  const abortedId = randomUUID()
  const pending = refusal(clientOf(h.actors.mca).request('tj.psb:household-registration', { id: abortedId, purpose: PURPOSE, query: QUERY, caseRef: 'c', signal: controller.signal }))
  const forwarded = (): boolean => h.psb.received.some(r => (JSON.parse(r.body.toString('utf8')) as { requestId?: string }).requestId === abortedId)
  t.ok(await waitFor(5000, forwarded, seen => seen), 'the request reached the provider')
  controller.abort()
  const aborted = await pending
  t.equal(aborted.code, 'GOVEX_ERR_CLIENT_ABORTED')
  t.equal(aborted.outcomeUnknown, true)
  const before = new AbortController()
  before.abort()
  const notSent = await refusal(clientOf(h.actors.mca).request('tj.psb:household-registration', { purpose: PURPOSE, query: QUERY, caseRef: 'c', signal: before.signal }))
  t.equal(notSent.code, 'GOVEX_ERR_CLIENT_ABORTED')
  t.equal(notSent.outcomeUnknown, false, 'aborted before a byte was written')
})

t.test('discovery: catalog, resource, grants and the dry run', async t => {
  const { h, clientOf } = await setup(t)
  const client = clientOf(h.actors.mca)
  const catalog = await client.catalog({ provider: 'tj.psb' })
  t.ok(catalog.some(r => r.id === 'tj.psb:household-registration'))
  t.ok(catalog.every(r => r.endpoint === undefined), 'no endpoints for a consumer')
  t.equal((await client.resource('tj.psb:household-registration')).id, 'tj.psb:household-registration')
  t.ok((await client.grantsMine()).some(g => g.id === 'mca-household'))
  t.match(await client.can('tj.psb:household-registration', { purpose: PURPOSE, fields: ['name'], caseRef: 'c' }), { allowed: true, grant: { id: 'mca-household' }, fields: ['name'] })
  t.same((await client.can('tj.psb:household-registration', { purpose: PURPOSE, caseRef: 'c' })).fields, ['name', 'householdAddress'], 'the grant\'s fields by default')
  t.equal((await client.can('tj.psb:household-registration', { purpose: PURPOSE, fields: ['idNumber'] })).code, 'GOVEX_ERR_FIELDS_NOT_GRANTED')
  t.equal((await client.can('tj.psb:household-registration', { purpose: PURPOSE, fields: ['name'] })).code, 'GOVEX_ERR_CONDITION_UNMET', 'the grant requires a caseRef')
  t.equal((await client.can('tj.psb:household-registration', { purpose: 'x' })).code, 'GOVEX_ERR_PURPOSE_NOT_GRANTED')
  t.equal((await client.can('tj.hrss:nothing', { purpose: PURPOSE })).code, 'GOVEX_ERR_NO_GRANT')
  t.equal((await client.can('tj.psb:household-registration', { purpose: 'old-review' })).code, 'GOVEX_ERR_NO_GRANT', 'a grant for the purpose outside its validity')
})

t.test('can() answers what the gateway answers the same request: outcome, code and message', async t => {
  const { h, clientOf } = await setup(t)
  h.psb.behave(answerData({ name: 'Zhang San', householdAddress: 'Heping District', idNumber: '120101199001011234', birthDate: '1990-01-01' }))
  const client = clientOf(h.actors.mca)
  const cases: Array<[string, { purpose: string, fields?: Array<'name' | 'householdAddress' | 'idNumber'>, caseRef?: string, userId?: string }]> = [
    ['tj.psb:household-registration', { purpose: PURPOSE, caseRef: 'c' }],
    ['tj.psb:household-registration', { purpose: PURPOSE, fields: ['name'], caseRef: 'c', userId: 'u' }],
    ['tj.psb:household-registration', { purpose: PURPOSE }],
    ['tj.psb:household-registration', { purpose: PURPOSE, fields: ['idNumber'] }],
    ['tj.psb:household-registration', { purpose: 'x', caseRef: 'c' }],
    ['tj.psb:household-registration', { purpose: 'old-review', fields: ['idNumber'] }],
    ['tj.psb:residents-by-street', { purpose: PURPOSE }]
  ]
  for (const [resourceId, request] of cases) {
    const dry = await client.can(resourceId, request)
    const sent = await client.request(resourceId, { ...request, query: QUERY }).then(() => null, (err: unknown) => err as GovexRequestError)
    const label = `${resourceId} ${JSON.stringify(request)}`
    if (sent === null) {
      t.equal(dry.allowed, true, `${label}: allowed by both`)
    } else {
      t.match({ allowed: dry.allowed, code: dry.code, message: dry.message }, { allowed: false, code: sent.code, message: sent.message }, `${label}: ${sent.code}`)
    }
  }
})

t.test('options are checked at construction with a coded error', async t => {
  const { privateJwk } = (await import('@govex/core')).generateKeyPair('k')
  const base = { gatewayUrl: 'http://127.0.0.1:1', memberId: 'tj.mca', privateKey: privateJwk, gatewayId: 'gw' }
  for (const [name, opts] of [
    ['url', { ...base, gatewayUrl: 'ftp://x' }],
    ['member', { ...base, memberId: '' }],
    ['gateway', { ...base, gatewayId: '' }],
    ['ttl', { ...base, tokenTtlS: 600 }],
    ['key', { ...base, privateKey: { kty: 'RSA' } }],
    ['key file', { ...base, privateKey: '/nonexistent/key.json' }],
    ['timeout', { ...base, timeoutMs: -1 }],
    ['retries', { ...base, retries: -1 }],
    ['retries not whole', { ...base, retries: 1.5 }]
  ] as const) {
    t.throws(() => createClient(opts as never), { code: 'GOVEX_ERR_CLIENT_OPTIONS' }, name)
  }
})
