// A store's GOVEX_ERR_UNAVAILABLE reached the member's 503 body with the
// store's own words: with Redis, a user refused a command by its ACL put
// "NOPERM … evalsha …", the Redis user in store.url and the ACL SETUSER advice
// meant for the operator into every consumer's answer (only the change feed's
// refusal and /readyz had been made generic). Every 503 a store throws now
// answers one generic message; the gateway log has the store's words on the
// request's warn line, and the exchange still leaves its audit record. The
// gateway's own 503s (stopping, not loaded, reloading) keep their words. A real
// ACL user on the test Redis, deleted afterwards; keys under a random prefix,
// deleted afterwards.
import t from 'tap'
import { GovexError, openMemoryStores } from '@govex/core'
import { buildGateway, httpError, mapError } from '../src/index.js'
import { STORES_UNAVAILABLE_MESSAGE } from '../src/errors.js'
import { createDeployment, samplePlan } from './helpers/deployment.js'
import { activatePlan, envelope, exchange } from './helpers/gateway.js'
import { needRedis } from '../../redis/test/helpers/redis.js'
import { aclGateway, logSink } from './helpers/acl-gateway.js'

const HOUSEHOLD = 'tj.psb:household-registration'
const NOPERM = 'admitting an exchange in Redis (replay guard and quota): NOPERM this user has no permissions to run the \'evalsha\' command or its subcommand; the Redis user in store.url lacks a permission govex needs (its commands, the keys under store.prefix, the channel <prefix>changes); grant them with ACL SETUSER as docs/operator-guide.md shows'
const STORE_WORDS = ['NOPERM', 'evalsha', 'store.url', 'ACL', 'prefix', 'Redis user', 'permission']

interface LogLine { level: number, msg: string, reqId?: string, code?: string, reason?: string }

t.test('mapError: a store\'s 503 answers generically and keeps its words for the log; the gateway\'s own keep theirs', async t => {
  const limits = { bodyBytes: 1024 }
  const store = mapError(new GovexError('GOVEX_ERR_UNAVAILABLE', NOPERM), limits)
  t.match(store, { status: 503, code: 'GOVEX_ERR_UNAVAILABLE', message: STORES_UNAVAILABLE_MESSAGE, internal: false, detail: NOPERM })
  const stopping = 'the gateway is stopping and takes no new requests'
  const own = mapError(httpError('GOVEX_ERR_UNAVAILABLE', stopping), limits)
  t.equal(own.message, stopping, 'the gateway\'s own 503 keeps its words')
  t.equal(own.detail, undefined)
  // a store's other codes are the caller's business (a conflict, a document not found)
  t.equal(mapError(new GovexError('GOVEX_ERR_CONFLICT', 'plan p1 is already active'), limits).message, 'plan p1 is already active')
})

t.test('a store that refuses a command mid-exchange: a generic 503, the detail in the log, the record in the audit log', async t => {
  const d = await createDeployment()
  const stores = await openMemoryStores({ gatewayId: d.config.gatewayId })
  const { lines, logger } = logSink()
  const app = await buildGateway({ config: d.config, stores, logger })
  t.teardown(async () => { await app.close(); await stores.close(); await d.cleanup() })
  const h = { ...d, app }
  await activatePlan(h, samplePlan())
  stores.admit = async () => { throw new GovexError('GOVEX_ERR_UNAVAILABLE', NOPERM) }

  const body = envelope()
  const headers = d.actors.mca.auth()
  const res = await exchange(h, HOUSEHOLD, body, headers)
  t.equal(res.statusCode, 503, res.body)
  t.match(res.json(), { code: 'GOVEX_ERR_UNAVAILABLE', message: STORES_UNAVAILABLE_MESSAGE, requestId: body.id })
  for (const word of STORE_WORDS) t.notOk(res.body.includes(word), `the answer does not carry ${JSON.stringify(word)}`)

  const parsed = lines.map(l => JSON.parse(l) as LogLine)
  const warned = parsed.filter(l => l.reqId === body.id && l.level === 40)
  t.equal(warned.length, 1, 'one warn line for the failed request')
  t.match(warned[0], { code: 'GOVEX_ERR_UNAVAILABLE', reason: NOPERM, msg: /stores do not answer or refuse/ }, 'the log has the store\'s words')
  const token = headers.authorization!.slice('Bearer '.length)
  t.notOk(lines.some(l => l.includes(token)), 'the log has no token')
  t.notOk(lines.some(l => l.includes('120101199001011234')), 'the log has no payload')

  const records = (await stores.audit.query({ kind: 'exchange' }, 100)).records.filter(r => r.id === body.id)
  t.match(records, [{ kind: 'exchange', consumer: 'tj.mca', outcome: 'error', status: 503, code: 'GOVEX_ERR_UNAVAILABLE', digests: null }], 'the refused exchange is audited')
})

t.test('any route: a store failure behind GET /v1/audit answers the same generic 503', async t => {
  const d = await createDeployment()
  const stores = await openMemoryStores({ gatewayId: d.config.gatewayId })
  const { lines, logger } = logSink()
  const app = await buildGateway({ config: d.config, stores, logger })
  t.teardown(async () => { await app.close(); await stores.close(); await d.cleanup() })
  const reason = 'reading the audit index from Redis: NOPERM this user has no permissions to access one of the keys used as arguments; grant them with ACL SETUSER'
  stores.audit.query = async () => { throw new GovexError('GOVEX_ERR_UNAVAILABLE', reason) }
  const res = await app.inject({ method: 'GET', url: '/v1/audit', headers: d.actors.auditor.auth() })
  t.equal(res.statusCode, 503, res.body)
  t.equal(res.json().message, STORES_UNAVAILABLE_MESSAGE)
  t.notMatch(res.body, /NOPERM|ACL/)
  const requestId = res.json().requestId as string
  t.ok(lines.some(l => { const line = JSON.parse(l) as LogLine; return line.reqId === requestId && line.reason === reason }), 'the log line of that request has the reason')
})

if (await needRedis(t)) {
  t.test('a real Redis user refused the replay keys: no NOPERM, key or advice in the 503; the log has them; the exchange is audited', async t => {
    // every command and the change channel, every key but the replay guard's and the quotas': EVALSHA of the admission is refused
    const g = await aclGateway(t, prefix => ['+@all', 'resetchannels', `&${prefix}changes`,
      ...['members', 'directories', 'disclosures', 'plans*', 'audit*'].map(key => `~${prefix}{govex}:${key}`)])
    const { app, lines, user, ...d } = g
    const prefix = user.prefix
    const h = { ...d, app }

    const body = envelope()
    const res = await exchange(h, HOUSEHOLD, body)
    t.equal(res.statusCode, 503, res.body)
    t.match(res.json(), { code: 'GOVEX_ERR_UNAVAILABLE', message: STORES_UNAVAILABLE_MESSAGE })
    for (const secret of [user.name, prefix, ...STORE_WORDS]) t.notOk(res.body.includes(secret), `the answer does not carry ${JSON.stringify(secret)}`)
    const line = lines.map(l => JSON.parse(l) as LogLine).find(l => l.reqId === body.id && l.level === 40)
    t.match(line?.reason, /NOPERM/, 'the log has Redis\'s refusal')
    t.match(line?.reason, /ACL SETUSER/, 'and what the operator should change')
    t.equal(d.psb.received.length, 0, 'nothing was forwarded')

    const records = await app.inject({ method: 'GET', url: '/v1/audit?limit=1000', headers: d.actors.auditor.auth() })
    t.equal(records.statusCode, 200, 'the auditor reads the log')
    t.match((records.json().records as Array<{ id: string }>).filter(r => r.id === body.id), [{ outcome: 'error', status: 503, code: 'GOVEX_ERR_UNAVAILABLE' }], 'the refused exchange is audited')
  })
}
