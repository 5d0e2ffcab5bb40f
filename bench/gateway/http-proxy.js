// (c) @fastify/http-proxy in front of the same upstream: the off-the-shelf
// Fastify way to forward, with its own undici pool (same pool settings as bare.js).
import { createRequire } from 'node:module'
import { serveCpuAccounting } from './proxy-common.js'

const Fastify = createRequire(new URL('../../packages/gateway/package.json', import.meta.url))('fastify')
const proxy = createRequire(new URL('../../package.json', import.meta.url))('@fastify/http-proxy')

const upstream = process.argv[2]
const app = Fastify({ logger: false })
await app.register(proxy, {
  upstream,
  prefix: '/v1/exchange',
  rewritePrefix: '/household',
  undici: { connections: 64, pipelining: 1, keepAliveTimeout: 3000, keepAliveMaxTimeout: 3000 }
})

serveCpuAccounting()
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.send({ ready: true, url })
process.on('message', async msg => { if (msg === 'stop') { await app.close(); process.exit(0) } })
