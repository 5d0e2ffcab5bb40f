// fix-select-never-database-0: when the SELECT of the URL's /db failed (a
// Redis user without +select, a database the server does not have), ioredis
// only emitted 'error' and carried on in database 0: openRedisStores opened
// and the gateway wrote its members and audit records into database 0, and
// openRedisAuditReader read database 0, all under the URL of another database.
// (fix-audit-reader-read-only asserted such an open fails, but its user could
// not read the default prefix either, so the SELECT was never what failed.)
// Now a connection whose SELECT fails is closed and tried again, as one whose
// AUTH is refused: the open fails saying why, and a gateway that waits for
// Redis stays unavailable until the right is granted, then heals into the
// URL's database. Real ACL users on the test Redis, deleted afterwards.
import t from 'tap'
import { Redis } from 'ioredis'
import { keyLayout, openRedisAuditReader, openRedisStores } from '../src/index.js'
import { deletePrefix, needRedis, randomPrefix, rawClient, REDIS_URL } from './helpers/redis.js'
import { aclUser } from './helpers/acl.js'
import { eventually, exchange, member } from './helpers/fixtures.js'

const DB = 3

/** An open expected to fail: what opens all the same is closed, and fails the assertion. */
async function refused (opening: Promise<{ close: () => Promise<void> }>): Promise<never> {
  const opened = await opening
  await opened.close()
  throw new Error('it opened (on database 0)')
}

function inDatabase (url: string, db: number): string {
  const u = new URL(url)
  u.pathname = `/${db}`
  return u.toString()
}

if (await needRedis(t)) {
  const db0 = await rawClient(t)
  const otherDb = new Redis(inDatabase(REDIS_URL, DB))
  t.teardown(() => { otherDb.disconnect() })

  t.test('a user that may not SELECT the URL\'s database: both opens fail, and nothing is written to database 0', async t => {
    const user = await aclUser(t, 'select', '+@all', '-select', 'resetchannels')
    await user.setUser(`~${user.prefix}*`, `&${user.prefix}*`)
    const url = inDatabase(user.url(), DB)
    await t.rejects(refused(openRedisStores({ url, prefix: user.prefix, gatewayId: 'tj.gw.test-1', onError: () => {}, onWarning: () => {} })), { code: 'GOVEX_ERR_UNAVAILABLE', message: /NOPERM.*'select'.*lacks a permission govex needs/ })
    // what the reader's probe would find, were it to read database 0
    const gateways = keyLayout(user.prefix).auditGateways
    await db0.sadd(gateways, 'tj.gw.in-database-0')
    await t.rejects(refused(openRedisAuditReader({ url, prefix: user.prefix, onError: () => {} })),
      { code: 'GOVEX_ERR_UNAVAILABLE', message: /NOPERM.*'select'.*"A Redis user for auditors"/ }, 'the reader does not read database 0 either')
    t.same(await db0.keys(`${user.prefix}*`), [gateways], 'only the key the test wrote')
  })

  t.test('a database the server does not have: the opens fail saying to name one it has', async t => {
    const url = inDatabase(REDIS_URL, 99)
    const prefix = randomPrefix()
    t.teardown(async () => { await deletePrefix(REDIS_URL, prefix) })
    await t.rejects(refused(openRedisStores({ url, gatewayId: 'tj.gw.test-1', prefix, onError: () => {}, onWarning: () => {} })), { code: 'GOVEX_ERR_UNAVAILABLE', message: /DB index is out of range.*name one it has/ })
    await t.rejects(refused(openRedisAuditReader({ url, prefix, onError: () => {} })), { code: 'GOVEX_ERR_UNAVAILABLE', message: /DB index is out of range.*name one it has/ })
  })

  t.test('a gateway that waits for Redis stays unavailable while SELECT is refused, then heals into the URL\'s database', async t => {
    const user = await aclUser(t, 'select', '+@all', '-select', 'resetchannels')
    await user.setUser(`~${user.prefix}*`, `&${user.prefix}*`)
    t.teardown(async () => { await deletePrefix(inDatabase(REDIS_URL, DB), user.prefix) })
    const errors: Error[] = []
    const stores = await user.open({ url: inDatabase(user.url(), DB), waitForRedis: true, onError: err => { errors.push(err) }, onWarning: () => {} })
    await t.rejects(stores.members.put(member('tj.mca')), { code: 'GOVEX_ERR_UNAVAILABLE' }, 'no write while the database cannot be selected')
    await t.rejects(stores.audit.append(exchange('tj.mca', 'tj.psb', 1)), { code: 'GOVEX_ERR_UNAVAILABLE' })
    t.match(errors.map(e => e.message).join(' | '), /NOPERM.*'select'/, 'the log says why')
    t.same(await db0.keys(`${user.prefix}*`), [], 'nothing in database 0')

    await user.setUser('+select')
    await eventually(5000, async () => await stores.members.put(member('tj.mca')).then(() => true, () => false), ok => ok)
    await stores.audit.append(exchange('tj.mca', 'tj.psb', 2))
    t.same(await db0.keys(`${user.prefix}*`), [], 'still nothing in database 0')
    const keys = keyLayout(user.prefix)
    t.equal(await otherDb.hexists(keys.members, 'tj.mca'), 1, `the member is in database ${DB}`)
    t.equal(await otherDb.xlen(keys.auditStream('tj.gw.test-1')), 1, 'the record appended after the grant too (the one before was refused)')
  })
}
