// The cost of authentication alone, for both paths of
// packages/gateway/src/auth.ts, called in a tight loop on a real Fastify request
// with one reused token (as a client that reuses its token until it expires):
// the verifier caches hit. Build first: `npx tsc -b`; run: node bench/gateway/auth.js
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { generateKeyPair, signJwt, openMemoryStores } from '../../packages/core/dist/index.js'
import { createAuthenticator } from '../../packages/gateway/dist/auth.js'
import { Runtime } from '../../packages/gateway/dist/runtime.js'

const require = createRequire(new URL('../../packages/gateway/package.json', import.meta.url))
const Fastify = require('fastify')
const N = Number(process.env.BENCH_N ?? 50000)
const gatewayId = 'tj.gw.bench'
const mca = generateKeyPair('mca-k1')
const stores = await openMemoryStores({ gatewayId })
await stores.members.put({ id: 'tj.mca', name: 'M', roles: ['agency'], keys: [mca.publicJwk] })
const log = { debug () {}, info () {}, warn () {}, error () {} }
const runtime = new Runtime({ stores, log })
await runtime.refresh()
const iat = Math.floor(Date.now() / 1000)
const authorization = 'Bearer ' + signJwt(mca.privateJwk, { iss: 'tj.mca', aud: gatewayId, iat, exp: iat + 300, jti: randomUUID() })

async function setup (mode) {
  const app = Fastify()
  const authenticator = await createAuthenticator(app, mode, { runtime, audiences: [gatewayId], now: Date.now })
  let captured
  app.get('/', async request => { captured = request; return 'ok' })
  await app.inject({ method: 'GET', url: '/', headers: { authorization } })
  return { app, authenticator, request: captured }
}

async function time ({ authenticator, request }, n) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const principal = authenticator.authenticate(request)
    if (principal instanceof Promise) await principal
  }
  return Number(process.hrtime.bigint() - start) / n / 1000
}

const lean = await setup('lean')
const fjwt = await setup('fastify-jwt')
const results = { lean: [], 'fastify-jwt': [] }
await time(lean, 5000)
await time(fjwt, 5000)
for (let round = 0; round < 5; round++) {
  results.lean.push(await time(lean, N))
  results['fastify-jwt'].push(await time(fjwt, N))
}
const median = list => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]
console.log(`\nbench/gateway/auth — ${N} calls × 5 rounds, one reused token, node ${process.version}\n`)
console.log('| path | µs per authentication (median of 5) | rounds |')
console.log('|---|---:|---|')
console.log(`| lean: core verifyJwt on a miss, token → principal cache | ${median(results.lean).toFixed(2)} | ${results.lean.map(v => v.toFixed(1)).join(', ')} |`)
console.log(`| @fastify/jwt 10 + fast-jwt cache, key callback → PEM string | ${median(results['fastify-jwt']).toFixed(2)} | ${results['fastify-jwt'].map(v => v.toFixed(1)).join(', ')} |`)
await lean.app.close()
await fjwt.app.close()
runtime.close()
await stores.close()
