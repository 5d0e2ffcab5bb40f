// (a) The bare forwarder: Fastify 5 + an undici 7 Pool, Pool.dispatch, body
// passed through as bytes, the upstream's answer passed back. No auth, no
// checks, no audit: the floor govex is compared with.
import { createRequire } from 'node:module'
import { serveCpuAccounting, forward } from './proxy-common.js'

const require = createRequire(new URL('../../packages/gateway/package.json', import.meta.url))
const Fastify = require('fastify')
const { Pool } = require('undici')

const upstream = process.argv[2]
const pool = new Pool(upstream, { connections: 64, keepAliveTimeout: 3000, keepAliveMaxTimeout: 3000 })
const app = Fastify({ logger: false })
app.removeAllContentTypeParsers()
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

app.post('/v1/exchange/:resourceId', async (request, reply) => {
  const answer = await forward(pool, request.body)
  reply.code(answer.status).type('application/json')
  return answer.body
})

serveCpuAccounting()
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.send({ ready: true, url })
process.on('message', async msg => { if (msg === 'stop') { await app.close(); await pool.close(); process.exit(0) } })
