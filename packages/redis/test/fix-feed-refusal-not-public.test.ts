// fix-feed-refusal-not-public: when Redis refused the change feed's SUBSCRIBE,
// admit() and ping() threw an error carrying Redis's NOPERM text and the
// operator advice (the Redis user in store.url, its rights, the channel
// <prefix>changes). admit()'s error is every consumer's 503 body and ping()'s
// the public /readyz answer. Now both say only that shared state refused the
// gateway's change feed and that the operator should see the log; the detail
// goes to onError (the gateway log) alone. A real ACL user on the test Redis,
// deleted afterwards.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { needRedis } from './helpers/redis.js'
import { aclUser } from './helpers/acl.js'
import { sleep } from './helpers/fixtures.js'
import { HEARTBEAT_MS } from '../src/changes.js'

if (await needRedis(t)) {
  t.test('a refused change feed: admit() and ping() say so without Redis\'s words; the log has them', async t => {
    // every key and command, but no channel: SUBSCRIBE <prefix>changes is refused
    const user = await aclUser(t, 'feed', '~*', '+@all', 'resetchannels')
    const errors: Error[] = []
    const stores = await user.open({ waitForRedis: true, onError: err => { errors.push(err) }, onWarning: () => {} })
    await sleep(4 * HEARTBEAT_MS)

    const refusals: Array<[string, Error]> = []
    for (const [name, call] of [
      ['ping', async () => { await stores.ping() }],
      ['admit', async () => { await stores.admit({ id: randomUUID(), windowS: 60 }) }]
    ] as const) {
      const err = await call().then(() => undefined, (e: unknown) => e as Error)
      t.ok(err, `${name} refuses`)
      if (err !== undefined) refusals.push([name, err])
    }
    for (const [name, err] of refusals) {
      t.match(err, { code: 'GOVEX_ERR_UNAVAILABLE', message: /^shared state \(Redis\) refused this gateway's change feed.*the operator should see the gateway log\)$/ }, `${name}: what happened and where to look`)
      for (const secret of [user.name, 'NOPERM', user.prefix, '<prefix>changes', 'store.url', 'ACL']) {
        t.notOk(err.message.includes(secret), `${name}: the message does not carry ${JSON.stringify(secret)}`)
      }
    }
    const told = errors.map(e => e.message).join(' | ')
    t.match(told, /NOPERM/, 'the log has Redis\'s refusal')
    t.match(told, /ACL SETUSER/, 'and what to change')
  })
}
