// A gateway whose Redis user may not subscribe to the change channel answered
// every consumer's exchange 503, and the public unauthenticated /readyz, with
// Redis's NOPERM text and the operator advice (the Redis user in store.url,
// the channel <prefix>changes, ACL SETUSER). Both now say only that shared
// state refused the gateway (and that the operator should see the log); the
// log keeps Redis's words. A real ACL user on the test Redis, deleted
// afterwards; keys under a random prefix, deleted afterwards.
import t from 'tap'
import { GovexError, openMemoryStores } from '@govex/core'
import { buildGateway } from '../src/index.js'
import { createDeployment } from './helpers/deployment.js'
import { envelope, exchange } from './helpers/gateway.js'
import { needRedis } from '../../redis/test/helpers/redis.js'
import { aclGateway, logSink } from './helpers/acl-gateway.js'

t.test('readyz names no store detail, and logs each reason once', async t => {
  const d = await createDeployment()
  const stores = await openMemoryStores({ gatewayId: d.config.gatewayId })
  let reason: string | null = null
  const ping = stores.ping.bind(stores)
  stores.ping = async () => {
    if (reason !== null) throw new GovexError('GOVEX_ERR_UNAVAILABLE', reason)
    await ping()
  }
  const { lines, logger } = logSink()
  const app = await buildGateway({ config: d.config, stores, logger })
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
    // every key and command, but no channel: the change feed's SUBSCRIBE is refused
    const { app, lines, user, ...d } = await aclGateway(t, () => ['~*', '+@all', 'resetchannels'])
    const prefix = user.prefix

    const refused = await exchange({ ...d, app }, 'tj.psb:household-registration', envelope())
    t.equal(refused.statusCode, 503, refused.body)
    t.equal(refused.json().code, 'GOVEX_ERR_UNAVAILABLE')
    t.match(refused.json().message, /stores .* do not answer or refuse this gateway.*the operator should see the gateway log/, 'the consumer is told what happened and who can fix it')
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(ready.statusCode, 503, ready.body)
    t.equal(ready.json().code, 'GOVEX_ERR_UNAVAILABLE')
    t.match(ready.json().message, /the operator should see the gateway log/)
    for (const [name, body] of [['exchange', refused.body], ['readyz', ready.body]]) {
      for (const secret of [user.name, 'NOPERM', prefix, '<prefix>changes', 'store.url', 'ACL', 'permission']) {
        t.notOk(body!.includes(secret), `${name}: the answer does not carry ${JSON.stringify(secret)}`)
      }
    }
    const log = lines.join('\n')
    t.match(log, /NOPERM/, 'the log has Redis\'s refusal')
    t.match(log, /ACL SETUSER/, 'and what the operator should change')
  })
}
