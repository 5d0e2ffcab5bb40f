// (i) The protocol's floor: what any implementation of PROTOCOL.md's exchange
// must do per request, each step done the leanest way known on Node 20, with
// nothing govex adds around them (no hooks, logs, metrics, error mapping,
// role or plan index, quota, record validation). It answers the same bench
// requests as govex, with the same bytes in and nearly the same bytes out, so
// its CPU per request is a lower bound for the full pipeline on this machine:
//   - the caller's JWT: a token is reused until it expires (PROTOCOL.md), so a
//     verification is a cache hit — a Map from the Authorization header to its
//     claims, and the expiry checked; the first sight of a token verifies it
//     in full (EdDSA signature with the member's key, `aud`, `exp − iat`,
//     skew), a cost spread over every reuse;
//   - the envelope parsed and checked against govex's RequestEnvelope schema
//     (Fastify + Ajv, as in (g));
//   - the grant: one Map lookup; the replay guard: one Set insertion;
//   - the provider JWT signed with Ed25519 (libsodium, as govex), with the
//     sha256 of the exact body bytes as its `digest`;
//   - the forward (undici Pool.dispatch), the answer parsed, minimised to the
//     granted fields, its sha256 taken over JSON.stringify (govex takes it
//     over RFC 8785 canonical JSON; for these flat string-valued records the
//     bytes are the same, since RFC 8785 escapes strings and writes numbers as
//     JSON.stringify does and the keys are built in sorted order);
//   - the audit record serialised, hashed into the chain, and made durable
//     (group commit: one O_DSYNC write per batch, as govex's file store)
//     before the 200;
//   - the response envelope serialised.
// argv: upstream URL. IPC: 'token' → { token }, a consumer token like govex's bench issues; 'stop'.
import { createRequire } from 'node:module'
import { createHash, randomUUID } from 'node:crypto'
import { openSync, write, closeSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RequestEnvelope, generateKeyPair, publicKeyFromJwk, signJwt, verifyJwt } from '../../packages/core/dist/index.js'
import { ed25519Signer } from '../../packages/gateway/dist/ed25519.js'
import { serveCpuAccounting } from './proxy-common.js'

const require = createRequire(new URL('../../packages/gateway/package.json', import.meta.url))
const Fastify = require('fastify')
const { Pool } = require('undici')

const upstream = process.argv[2]
const pool = new Pool(upstream, { connections: 64, keepAliveTimeout: 3000, keepAliveMaxTimeout: 3000 })
const app = Fastify({ logger: false })
const signer = ed25519Signer(generateKeyPair('floor-k1').privateJwk)
const b64 = value => Buffer.from(JSON.stringify(value)).toString('base64url')
const jwtHeader = b64({ alg: 'EdDSA', kid: 'floor-k1' })
const sha256 = data => 'sha256:' + createHash('sha256').update(data).digest('hex')

// the member registry: the one consumer whose tokens this floor issues (IPC 'token')
const consumer = generateKeyPair('mca-k1')
const memberKeys = new Map([['tj.mca', publicKeyFromJwk(consumer.publicJwk)]])
const resolveKey = (kid, claims) => kid === 'mca-k1' ? memberKeys.get(claims.iss) : undefined

const grants = new Map([['tj.mca tj.psb:household-registration', { id: 'mca-household', fields: ['name', 'householdAddress', 'householdType'] }]])
const tokens = new Map()
const seen = new Set()

// the audit chain: group commit on an O_DSYNC descriptor
const dir = mkdtempSync(join(tmpdir(), 'govex-bench-floor-'))
const fd = openSync(join(dir, 'audit.jsonl'), constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC)
let seq = 0
let prevHash = 'sha256:' + '0'.repeat(64)
let queue = []
let writing = false
function append (record) {
  record.seq = ++seq
  record.prevHash = prevHash
  const line = JSON.stringify(record)
  prevHash = sha256(line)
  return new Promise((resolve, reject) => {
    queue.push({ line: line.slice(0, -1) + ',"hash":"' + prevHash + '"}', resolve, reject })
    if (!writing) { writing = true; queueMicrotask(flush) }
  })
}
function flush () {
  const batch = queue
  queue = []
  const buf = Buffer.from(batch.map(p => p.line).join('\n') + '\n')
  write(fd, buf, 0, buf.length, null, err => {
    for (const p of batch) if (err === null) p.resolve(); else p.reject(err)
    if (queue.length > 0) flush(); else writing = false
  })
}

function forward (body, authorization) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let status = 0
    pool.dispatch({ path: '/household', method: 'POST', headers: ['content-type', 'application/json', 'authorization', authorization], body }, {
      onConnect () {},
      onHeaders (s) { status = s; return true },
      onData (chunk) { chunks.push(chunk); return true },
      onComplete () { resolve({ status, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }) },
      onError: reject
    })
  })
}

app.post('/v1/exchange/:resourceId', { schema: { body: RequestEnvelope } }, async (request, reply) => {
  const header = request.headers.authorization
  let claims = tokens.get(header)
  if (claims === undefined) {
    const result = typeof header === 'string' && header.startsWith('Bearer ') ? verifyJwt(header.slice(7), resolveKey, { audience: 'tj.gw.bench', maxTtlS: 300 }) : undefined
    if (result === undefined || !result.ok) return reply.code(401).send({ code: 'GOVEX_ERR_UNAUTHENTICATED' })
    claims = result.claims
    tokens.set(header, claims)
  }
  if (claims.exp * 1000 < Date.now()) return reply.code(401).send({ code: 'GOVEX_ERR_UNAUTHENTICATED' })
  const envelope = request.body
  const resource = request.params.resourceId
  const grant = grants.get(claims.iss + ' ' + resource)
  if (grant === undefined) return reply.code(403).send({ code: 'GOVEX_ERR_NO_GRANT' })
  if (seen.has(envelope.id)) return reply.code(409).send({ code: 'GOVEX_ERR_REPLAY' })
  seen.add(envelope.id)
  const fields = envelope.fields ?? grant.fields
  const started = performance.now()
  const body = Buffer.from(JSON.stringify({ requestId: envelope.id, consumer: claims.iss, resource, purpose: envelope.purpose, userId: envelope.userId, caseRef: envelope.caseRef, fields, query: envelope.query ?? {} }))
  const requestDigest = sha256(body)
  const now = Math.floor(Date.now() / 1000)
  const signingInput = jwtHeader + '.' + b64({ iss: 'tj.gw.bench', aud: 'tj.psb', iat: now, exp: now + 60, jti: envelope.id, resource, consumer: claims.iss, fields, digest: requestDigest })
  const jwt = signingInput + '.' + signer.sign(Buffer.from(signingInput)).toString('base64url')
  const answer = await forward(body, 'Bearer ' + jwt)
  const { data } = JSON.parse(answer.body.toString('utf8'))
  const minimised = {}
  for (const f of fields) if (f in data) minimised[f] = data[f]
  const dataJson = JSON.stringify(minimised)
  const digests = { request: requestDigest, response: sha256(dataJson) }
  const plan = { id: 'bench-plan', version: 1 }
  const record = { gatewayId: 'tj.gw.bench', seq: 0, ts: new Date().toISOString(), kind: 'exchange', id: envelope.id, consumer: claims.iss, provider: 'tj.psb', resource, userId: envelope.userId ?? null, purpose: envelope.purpose, caseRef: envelope.caseRef ?? null, plan, grantId: grant.id, fields, outcome: 'allowed', code: null, status: 200, latencyMs: performance.now() - started, digests, prevHash: '' }
  await append(record)
  reply.type('application/json')
  return JSON.stringify({ id: randomUUID(), requestId: envelope.id, resource, consumer: claims.iss, provider: 'tj.psb', plan, grantId: grant.id, fields, data: minimised, digests, auditSeq: record.seq })
})

serveCpuAccounting()
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.send({ ready: true, url })
// a consumer token of the shape and length govex's bench issues
process.on('message', async msg => {
  if (msg === 'token') {
    const iat = Math.floor(Date.now() / 1000)
    process.send({ token: 'Bearer ' + signJwt(consumer.privateJwk, { iss: 'tj.mca', aud: 'tj.gw.bench', iat, exp: iat + 300, jti: randomUUID() }) })
  }
  if (msg === 'stop') {
    await app.close()
    await pool.close()
    closeSync(fd)
    rmSync(dir, { recursive: true, force: true })
    process.exit(0)
  }
})
