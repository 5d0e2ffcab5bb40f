// One fake agency data service on node:http: POST /<resource name> with the
// gateway's body { requestId, consumer, resource, purpose, userId, caseRef, fields, query }
// answers 200 { "data": record | array | null } (PROTOCOL.md, "Gateway → provider").
import { createServer } from 'node:http'

const BODY_LIMIT = 1024 * 1024
// Longer than the gateway's undici keep-alive, so the gateway, not this server,
// closes idle sockets and never writes a request into a socket being closed here.
const KEEP_ALIVE_TIMEOUT_MS = 5000
// Demo aids, chosen by an undeclared query key (passed through by the gateway):
// 'slow' outlasts the resources' 2 s endpoint timeout (504), 'error' answers 500 (502).
const SLOW_MS = 3000

/**
 * Creates (does not start) the server of one agency.
 * `resources` maps a resource name (the endpoint path) to query => data.
 */
export function createProviderServer ({ agency, resources, log, verify }) {
  const handlers = new Map(Object.entries(resources))
  const server = createServer((req, res) => {
    const name = req.url === undefined ? '' : req.url.split('?', 1)[0].slice(1)
    const handler = handlers.get(name)
    if (handler === undefined) return reply(res, 404, { error: `${agency} serves no resource at ${req.url}` })
    if (req.method !== 'POST') return reply(res, 405, { error: 'use POST' }, { allow: 'POST' })
    // The gateway signs each call (Bearer JWT, PROTOCOL.md). With `verify` (from
    // @govex/sdk's createGatewayVerifier) the exact body bytes are checked against it;
    // without, only calls carrying no token at all are refused.
    if (!/^Bearer \S+$/.test(req.headers.authorization ?? '')) return reply(res, 401, { code: 'GOVEX_ERR_UNAUTHENTICATED', error: 'a gateway token is required' })
    readJson(req, (err, body, raw) => {
      if (err !== null) return reply(res, 400, { error: err.message })
      if (verify !== undefined) {
        const checked = verify(req.headers, raw)
        if (!checked.ok) {
          log(`${agency}: refused a call: ${checked.message}`)
          return reply(res, 401, { code: checked.code, error: checked.message })
        }
      }
      const query = isObject(body) && isObject(body.query) ? body.query : {}
      if (query.simulate === 'error') return reply(res, 500, { error: 'simulated provider failure' })
      let data
      try {
        data = handler(query)
      } catch (handlerErr) {
        log(`${agency}: ${name} failed: ${handlerErr.message}`)
        return reply(res, 500, { error: 'provider error' })
      }
      if (query.simulate === 'slow') {
        const timer = setTimeout(() => reply(res, 200, { data }), SLOW_MS)
        res.on('close', () => clearTimeout(timer))
        return
      }
      reply(res, 200, { data })
    })
  })
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
  return server
}

function isObject (value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function readJson (req, done) {
  const chunks = []
  let size = 0
  let failed = false
  req.on('data', chunk => {
    if (failed) return
    size += chunk.length
    if (size > BODY_LIMIT) {
      failed = true
      done(new Error(`body over ${BODY_LIMIT} bytes`))
      req.resume()
      return
    }
    chunks.push(chunk)
  })
  req.on('end', () => {
    if (failed) return
    const raw = Buffer.concat(chunks)
    try {
      done(null, JSON.parse(raw.toString('utf8')), raw)
    } catch {
      done(new Error('body is not JSON'))
    }
  })
  req.on('error', err => {
    if (!failed) {
      failed = true
      done(err)
    }
  })
}

function reply (res, status, body, headers = {}) {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}
