// `govex audit … --config` on a Redis store opened it with openRedisStores, a
// gateway's open: a second connection SUBSCRIBEd to the change channel, the
// server check's INFO, a chain head of its own. An auditor's Redis user
// therefore needed the gateway's rights (the change channel, SUBSCRIBE, …)
// though it only reads. openRedisAuditReader opens one connection, never
// subscribes, writes no key, and reads with the gateway's own read code: here
// under a real ACL user that may run only HGETALL, SMEMBERS, ZRANGE and XRANGE
// on the deployment's keys (created and deleted by the test).
import t from 'tap'
import { checkpointKeysOf, checkpointSigner, generateKeyPair } from '@govex/core'
import type { AuditPage, AuditRecord, Member } from '@govex/core'
import type { Redis } from 'ioredis'
import { openRedisAuditReader, openRedisStores, type RedisAuditReader } from '../src/index.js'
import { needRedis, rawClient, REDIS_URL } from './helpers/redis.js'
import { aclUser } from './helpers/acl.js'
import { admin, eventually, exchange, member } from './helpers/fixtures.js'

const GW = 'tj.gw.test-1'
const gateway = generateKeyPair('gw-1')
const gatewayMember: Member = { id: GW, name: 'Gateway', roles: ['gateway'], keys: [gateway.publicJwk] }
const keys = checkpointKeysOf([gatewayMember])

async function keysUnder (raw: Redis, prefix: string): Promise<string[]> {
  return (await raw.keys(`${prefix}*`)).sort()
}

async function collect (source: AsyncIterable<AuditRecord>): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for await (const r of source) out.push(r)
  return out
}

async function pages (read: (cursor?: string) => Promise<AuditPage>): Promise<AuditPage[]> {
  const out: AuditPage[] = []
  let cursor: string | undefined
  do {
    const page = await read(cursor)
    out.push(page)
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  return out
}

/** The connections of `user` on the server, from CLIENT LIST. */
async function connectionsOf (raw: Redis, user: string): Promise<string[]> {
  return (await raw.client('LIST') as string).split('\n').filter(line => line.includes(` user=${user} `))
}

if (await needRedis(t)) {
  const raw = await rawClient(t)

  t.test('a user with four read commands reads what the gateway wrote, through one connection, and changes nothing', async t => {
    const user = await aclUser(t, 'auditor')
    const stores = await user.open({ url: REDIS_URL, checkpoint: { every: 10, sign: checkpointSigner(gateway.privateJwk) } })
    await stores.members.put(gatewayMember)
    await stores.members.put(member('tj.mca'))
    await Promise.all(Array.from({ length: 60 }, async (_, i) => await stores.audit.append(i % 5 === 4 ? admin('tj.it-office', i) : exchange(i % 2 === 0 ? 'tj.mca' : 'tj.hrss', 'tj.psb', i))))
    await user.setUser(`~${user.prefix}*`, '+hgetall', '+smembers', '+zrange', '+xrange')
    const before = await keysUnder(raw, user.prefix)

    // the gateway's open is refused such a user: that is what govex audit used
    await t.rejects(openRedisStores({ url: user.url(), prefix: user.prefix, gatewayId: 'govex-cli.reader-1' }), { code: 'GOVEX_ERR_UNAVAILABLE', message: /NOPERM/ }, 'openRedisStores needs more than reading')

    const reader: RedisAuditReader = await openRedisAuditReader({ url: user.url(), prefix: user.prefix })
    t.teardown(async () => { await reader.close() })
    t.same(await pages(async c => await reader.audit.query({ consumer: 'tj.mca' }, 7, c)), await pages(async c => await stores.audit.query({ consumer: 'tj.mca' }, 7, c)), 'query pages and cursors')
    t.same(await collect(reader.audit.scan({})), await collect(stores.audit.scan({})), 'scan (export)')
    const verified = await reader.audit.verify({ keys })
    t.same(verified, await stores.audit.verify({ keys }))
    t.match(verified, { ok: true, checked: 66, checkpoints: 6 }, 'checkpoints checked')
    const from = (await stores.audit.query({}, 30)).records[29]?.ts as string
    t.same(await reader.audit.verify({ from, keys }), await stores.audit.verify({ from, keys }), 'a range, from its last checkpoint')
    t.same(await reader.audit.statistics('consumer'), await stores.audit.statistics('consumer'), 'stats')
    t.same(await reader.audit.statistics('provider', { consumer: 'tj.mca' }), await stores.audit.statistics('provider', { consumer: 'tj.mca' }))
    t.same(await reader.members(), await stores.members.list(), 'members')

    const conns = await connectionsOf(raw, user.name)
    t.equal(conns.length, 1, `one connection: ${conns.join(' | ')}`)
    t.match(conns[0], / sub=0 psub=0 /, 'never subscribed')

    // it has no chain of its own and appends nothing
    t.equal(reader.audit.gatewayId, '')
    t.same(reader.audit.head().seq, 0)
    await t.rejects(reader.audit.append(exchange('tj.mca', 'tj.psb', 99)), { code: 'GOVEX_ERR_UNAVAILABLE', message: /read-only/ })
    await reader.audit.flush()
    t.same(await keysUnder(raw, user.prefix), before, 'no key made or removed')
    t.equal(stores.audit.head().seq, 66, 'the gateway\'s chain goes on as it was')

    // closing the log closes the reader's connection; closing again is harmless
    await reader.audit.close()
    await reader.close()
    await eventually(2000, async () => (await connectionsOf(raw, user.name)).length, n => n === 0)
    t.pass('its connection is gone')
  })

  t.test('bad options are refused before any connection; a refused user or no Redis is GOVEX_ERR_UNAVAILABLE saying what to do', async t => {
    const user = await aclUser(t, 'auditor', '+hgetall', '+smembers', '+zrange', '+xrange')
    await user.setUser(`~${user.prefix}*`)
    for (const options of [
      { url: 'http://127.0.0.1:6379' },
      { url: 'redis-sentinel://nohost' },
      { url: REDIS_URL, commandTimeoutMs: 0 },
      { url: REDIS_URL, commandTimeoutMs: 1001 },
      { url: REDIS_URL, name: 'a name' },
      { url: REDIS_URL, name: '' },
      { url: REDIS_URL, prefix: 'a b' },
      { url: REDIS_URL, verifyThreads: -1 }
    ]) {
      await t.rejects(openRedisAuditReader(options), { code: 'GOVEX_ERR_BAD_REQUEST' }, JSON.stringify(options))
    }
    await t.rejects(openRedisAuditReader({ url: user.url('not-the-password'), prefix: user.prefix }), { code: 'GOVEX_ERR_UNAVAILABLE', message: /WRONGPASS.*correct them/ })
    // a /db the user may not SELECT fails the open (a reviewer feared it read database 0 instead)
    await openRedisAuditReader({ url: user.url(), prefix: user.prefix }).then(async reader => { await reader.close() })
    const otherDb = new URL(user.url())
    otherDb.pathname = '/3'
    await t.rejects(openRedisAuditReader({ url: otherDb.toString(), prefix: user.prefix }), { code: 'GOVEX_ERR_UNAVAILABLE', message: /NOPERM/ }, 'a refused SELECT fails the open')
    const errors: Error[] = []
    await t.rejects(openRedisAuditReader({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 100, onError: err => { errors.push(err) } }), { code: 'GOVEX_ERR_UNAVAILABLE', message: /check that Redis is running/ })
    t.ok(errors.length > 0, 'the connection failure was told to onError')
  })
}
