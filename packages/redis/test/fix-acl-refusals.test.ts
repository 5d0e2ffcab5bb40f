// fix-acl-refusals: a Redis that answers but refuses govex's user (an ACL
// without the change channel, a wrong password) is not an outage to wait out.
// Before the fix its error said "check that Redis is running and reachable,
// then retry", a wrong password surfaced as "Connection is closed.", and a
// gateway (it opens with waitForRedis) whose SUBSCRIBE was refused answered
// /readyz 503 "check that Redis is reachable" while Redis was reachable, its
// heartbeat retrying every 200 ms and dropping each failure unseen. Now the
// error names the setting to change, the heartbeat tells onError of a failure
// it has not told yet (once, not once a beat), readiness says why, and
// granting the channel heals the gateway with no restart. Real ACL users on
// the test Redis, deleted afterwards.
import t from 'tap'
import { needRedis } from './helpers/redis.js'
import { aclUser } from './helpers/acl.js'
import { eventually, sleep } from './helpers/fixtures.js'
import { HEARTBEAT_MS } from '../src/changes.js'

// every key and command, but no channel
const NO_CHANNEL = ['~*', '+@all', 'resetchannels']

if (await needRedis(t)) {
  t.test('a user refused the change channel: the error says to grant it, not to wait', async t => {
    const user = await aclUser(t, 'acl', ...NO_CHANNEL)
    await t.rejects(user.open(), {
      code: 'GOVEX_ERR_UNAVAILABLE',
      message: /^subscribing to store changes in Redis: NOPERM .*lacks a permission govex needs .*ACL SETUSER/
    })
  })

  t.test('with waitForRedis the refusal is told once, readiness says why, and a grant heals it', async t => {
    const user = await aclUser(t, 'acl', ...NO_CHANNEL)
    const errors: Error[] = []
    const stores = await user.open({ waitForRedis: true, onError: err => { errors.push(err) }, onWarning: () => {} })
    await sleep(6 * HEARTBEAT_MS)
    const refusals = errors.filter(e => /NOPERM/.test(e.message))
    t.equal(refusals.length, 1, `one report over ${6} heartbeats (${errors.map(e => e.message).join(' | ')})`)
    t.match(refusals[0]?.message, /ACL SETUSER/, 'it says what to do')
    // readiness says it is a refusal; Redis's words and the advice are the log's (fix-feed-refusal-not-public)
    await t.rejects(stores.ping(), { code: 'GOVEX_ERR_UNAVAILABLE', message: /refused this gateway's change feed.*gateway log/ }, 'readiness says Redis refused the feed')

    await user.setUser(`&${user.prefix}*`)
    await eventually(2000, async () => await stores.ping().then(() => true, () => false), ok => ok)
    t.pass('granted the channel, the stores are ready with no restart')
  })

  t.test('a wrong password: the error says to correct store.url', async t => {
    const user = await aclUser(t, 'acl', ...NO_CHANNEL)
    await t.rejects(user.open({ url: user.url('not-the-password') }), { code: 'GOVEX_ERR_UNAVAILABLE', message: /WRONGPASS.*correct them/ })
  })
}
