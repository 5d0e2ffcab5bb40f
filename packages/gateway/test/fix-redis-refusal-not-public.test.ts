// A gateway whose Redis user may not subscribe to the change channel answered
// every consumer's exchange 503, and the public unauthenticated /readyz, with
// Redis's NOPERM text and the operator advice (the Redis user in store.url,
// the channel <prefix>changes, ACL SETUSER). Both now say only that shared
// state refused the gateway (and that the operator should see the log); the
// log keeps Redis's words. A real ACL user on the test Redis, deleted
// afterwards; keys under a random prefix, deleted afterwards.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import pino from 'pino'
import { GovexError, openMemoryStores } from '@govex/core'
import { buildGateway, resolveConfig } from '../src/index.js'
import { createDeployment, samplePlan } from './helpers/deployment.js'
import { activatePlan, envelope, exchange } from './helpers/gateway.js'
import { REDIS_URL, deletePrefix, needRedis, randomPrefix, rawClient } from '../../redis/test/helpers/redis.js'

t.test('readyz names no store detail, and logs each reason once', async t => {
  const d = await createDeployment()
  const stores = await openMemoryStores({ gatewayId: d.config.gatewayId })
  let reason: string | null = null
  const ping = stores.ping.bind(stores)
  stores.ping = async () => {
    if (reason !== null) throw new GovexError('GOVEX_ERR_UNAVAILABLE', reason)
    await ping()
  }
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(...chunk.toString('utf8').trim().split('\n')); done() } })
  const app = await buildGateway({ config: d.config, stores, logger: pino({ level: 'info' }, sink) })
  t.teardown(async () => { await app.close(); await stores.close(); await d.cleanup() })
  const detailed = (): number => lines.filter(l => l.includes('10.20.30.40')).length

  reason = 'pinging Redis: connect ECONNREFUSED 10.20.30.40:6379 as user govex-prod; check that Redis is running'
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(res.statusCode, 503)
    t.notMatch(res.body, /10\.20\.30\.40|govex-prod|ECONNREFUSED/, 'no host, user or error of the store in the public answer')
  }
  t.equal(detailed(), 1, 'the log has the reason, once for three probes')
  reason = null
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  reason = 'pinging Redis: connect ECONNREFUSED 10.20.30.40:6379 as user govex-prod; check that Redis is running'
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503)
  t.equal(detailed(), 2, 'a new outage is logged again')
})

if (await needRedis(t)) {
  t.test('a Redis user refused the change channel: no ACL user, key or advice in the 503s; the log has them', async t => {
    const admin = await rawClient(t)
    const user = `govex-test-gw-${randomBytes(4).toString('hex')}`
    const password = randomBytes(12).toString('hex')
    // every key and command, but no channel: the change feed's SUBSCRIBE is refused
    await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '+@all', 'resetchannels')
    const d = await createDeployment()
    const prefix = randomPrefix()
    t.teardown(async () => { await admin.call('ACL', 'DELUSER', user); await deletePrefix(REDIS_URL, prefix); await d.cleanup() })

    // the shared state, written with full rights: members, directories, the active plan
    const full = await buildGateway({ config: resolveConfig({ ...d.raw, store: { kind: 'redis', url: REDIS_URL, prefix, spoolDir: './data/spool' } }, { dir: d.dir }) })
    try {
      await activatePlan({ ...d, app: full }, samplePlan())
    } finally {
      await full.close()
    }

    const url = new URL(REDIS_URL)
    url.username = user
    url.password = password
    const lines: string[] = []
    const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(...chunk.toString('utf8').trim().split('\n')); done() } })
    const config = resolveConfig({ ...d.raw, store: { kind: 'redis', url: url.toString(), prefix, spoolDir: './data/spool' } }, { dir: d.dir })
    const app = await buildGateway({ config, logger: pino({ level: 'info' }, sink) })
    t.teardown(() => app.close())

    const refused = await exchange({ ...d, app }, 'tj.psb:household-registration', envelope())
    t.equal(refused.statusCode, 503, refused.body)
    t.equal(refused.json().code, 'GOVEX_ERR_UNAVAILABLE')
    t.match(refused.json().message, /stores .* do not answer or refuse this gateway.*the operator should see the gateway log/, 'the consumer is told what happened and who can fix it')
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(ready.statusCode, 503, ready.body)
    t.equal(ready.json().code, 'GOVEX_ERR_UNAVAILABLE')
    t.match(ready.json().message, /the operator should see the gateway log/)
    for (const [name, body] of [['exchange', refused.body], ['readyz', ready.body]]) {
      for (const secret of [user, 'NOPERM', prefix, '<prefix>changes', 'store.url', 'ACL', 'permission']) {
        t.notOk(body!.includes(secret), `${name}: the answer does not carry ${JSON.stringify(secret)}`)
      }
    }
    const log = lines.join('\n')
    t.match(log, /NOPERM/, 'the log has Redis\'s refusal')
    t.match(log, /ACL SETUSER/, 'and what the operator should change')
  })
}
