// (g) A Fastify JSON route in front of the same undici Pool: the envelope parsed
// by Fastify's JSON parser and checked against govex's RequestEnvelope schema,
// forwarded as JSON.stringify of what was parsed, the provider's answer parsed
// and sent back as JSON. No auth, no plan, no signature, no audit: what the
// framework and the two JSON round trips cost before any of govex's own steps.
import { createRequire } from 'node:module'
import { RequestEnvelope } from '../../packages/core/dist/index.js'
import { serveCpuAccounting, forward } from './proxy-common.js'

const require = createRequire(new URL('../../packages/gateway/package.json', import.meta.url))
const Fastify = require('fastify')
const { Pool } = require('undici')

const upstream = process.argv[2]
const pool = new Pool(upstream, { connections: 64, keepAliveTimeout: 3000, keepAliveMaxTimeout: 3000 })
const app = Fastify({ logger: false })

app.post('/v1/exchange/:resourceId', { schema: { body: RequestEnvelope } }, async (request, reply) => {
  const answer = await forward(pool, JSON.stringify(request.body))
  reply.code(answer.status)
  return JSON.parse(answer.body.toString('utf8'))
})

serveCpuAccounting()
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.send({ ready: true, url })
process.on('message', async msg => { if (msg === 'stop') { await app.close(); await pool.close(); process.exit(0) } })
