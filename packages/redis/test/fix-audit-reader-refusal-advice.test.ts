// fix-audit-reader-refusal-advice: an auditor's reader (openRedisAuditReader,
// what `govex audit … --config` opens on a Redis store) refused a command by
// its Redis user failed with the gateway's advice: grant "its commands, the
// keys under store.prefix, the channel <prefix>changes" as the operator guide
// shows, i.e. the gateway's rights, which a reader needs none of beyond four
// read commands. Now every refusal on the reader's way (the open, query,
// stats, verify's raw stream reads, members) names the commands it needs and
// the operator guide's section "A Redis user for auditors", while the
// gateway's open under the same user keeps the gateway's advice. Real ACL
// users on the test Redis, each lacking one right, deleted afterwards.
import t from 'tap'
import type { Test } from 'tap'
import { checkpointKeysOf, checkpointSigner, generateKeyPair } from '@govex/core'
import type { Member } from '@govex/core'
import { openRedisAuditReader, openRedisStores, type RedisAuditReader } from '../src/index.js'
import { needRedis, REDIS_URL } from './helpers/redis.js'
import { aclUser, type AclUser } from './helpers/acl.js'
import { exchange, member } from './helpers/fixtures.js'

const GW = 'tj.gw.test-1'
const gateway = generateKeyPair('gw-1')
const gatewayMember: Member = { id: GW, name: 'Gateway', roles: ['gateway'], keys: [gateway.publicJwk] }
const keys = checkpointKeysOf([gatewayMember])

/** What the auditor's refusals must say: Redis's word, the commands, the section. */
const AUDITOR_ADVICE = /NOPERM.*HGETALL, SMEMBERS, ZRANGE and XRANGE on the keys under store\.prefix.*SELECT for a database other than 0.*docs\/operator-guide\.md.*"A Redis user for auditors"/
/** The gateway's advice, which sends an auditor after rights it does not need. */
const GATEWAY_ADVICE = /channel <prefix>changes/

/** The rights of docs/operator-guide.md's auditor user. */
const READS = ['+hgetall', '+smembers', '+zrange', '+xrange', '+select', '+client|setname']

/** A deployment the gateway wrote (members, records, checkpoints), and an auditor user with its rights but `lacking`. */
async function deployment (t: Test, lacking?: string): Promise<AclUser> {
  const user = await aclUser(t, 'auditor')
  const stores = await user.open({ url: REDIS_URL, checkpoint: { every: 5, sign: checkpointSigner(gateway.privateJwk) } })
  await stores.members.put(gatewayMember)
  await stores.members.put(member('tj.mca'))
  for (let i = 0; i < 12; i++) await stores.audit.append(exchange('tj.mca', 'tj.psb', i))
  if (lacking !== undefined) t.ok(READS.includes(`+${lacking}`), `${lacking} is one of the reader's rights`)
  await user.setUser(`~${user.prefix}*`, ...READS.filter(r => r !== `+${lacking}`))
  return user
}

async function open (t: Test, user: AclUser): Promise<RedisAuditReader> {
  const reader = await openRedisAuditReader({ url: user.url(), prefix: user.prefix, onError: () => {} })
  t.teardown(async () => { await reader.close() })
  return reader
}

/** An open expected to fail: a reader that opens all the same is closed, and the open fails the assertion. */
async function openRefused (user: AclUser, url: string = user.url()): Promise<RedisAuditReader> {
  const reader = await openRedisAuditReader({ url, prefix: user.prefix, onError: () => {} })
  await reader.close()
  throw new Error('the reader opened')
}

if (await needRedis(t)) {
  t.test('without SMEMBERS the open fails naming the auditors\' section and the commands; the gateway\'s open keeps its own advice', async t => {
    const user = await deployment(t, 'smembers')
    const err = await openRefused(user).then(() => undefined, (e: unknown) => e as Error)
    t.match(err, { code: 'GOVEX_ERR_UNAVAILABLE', message: AUDITOR_ADVICE })
    t.notMatch(err?.message, GATEWAY_ADVICE, 'not the gateway\'s rights')
    await t.rejects(openRedisStores({ url: user.url(), prefix: user.prefix, gatewayId: 'tj.gw.test-2' }), { code: 'GOVEX_ERR_UNAVAILABLE', message: GATEWAY_ADVICE }, 'a gateway\'s open is told a gateway\'s rights')
  })

  t.test('without ZRANGE query, scan, stats and a range verify fail naming the section', async t => {
    const user = await deployment(t, 'zrange')
    const reader = await open(t, user)
    await t.rejects(reader.audit.query({}, 5), { code: 'GOVEX_ERR_UNAVAILABLE', message: AUDITOR_ADVICE }, 'query')
    await t.rejects(async () => { for await (const _ of reader.audit.scan({ consumer: 'tj.mca' })) break }, { code: 'GOVEX_ERR_UNAVAILABLE', message: AUDITOR_ADVICE }, 'scan')
    await t.rejects(reader.audit.statistics('consumer'), { code: 'GOVEX_ERR_UNAVAILABLE', message: AUDITOR_ADVICE }, 'stats')
    await t.rejects(reader.audit.verify({ from: '2000-01-01T00:00:00.000Z', keys }), { code: 'GOVEX_ERR_UNAVAILABLE', message: AUDITOR_ADVICE }, 'verify from an instant (the checkpoint index)')
  })

  t.test('without XRANGE query, a whole verify (raw stream reads), a range verify and stats fail naming the section', async t => {
    const user = await deployment(t, 'xrange')
    const reader = await open(t, user)
    await t.rejects(reader.audit.query({}, 5), { code: 'GOVEX_ERR_UNAVAILABLE', message: AUDITOR_ADVICE }, 'query')
    await t.rejects(reader.audit.verify({ keys }), { code: 'GOVEX_ERR_UNAVAILABLE', message: AUDITOR_ADVICE }, 'verify')
    await t.rejects(reader.audit.verify({ from: '2000-01-01T00:00:00.000Z', keys }), { code: 'GOVEX_ERR_UNAVAILABLE', message: AUDITOR_ADVICE }, 'verify from an instant')
    await t.rejects(reader.audit.statistics('provider'), { code: 'GOVEX_ERR_UNAVAILABLE', message: AUDITOR_ADVICE }, 'stats')
  })

  t.test('without HGETALL members and verify fail naming the section', async t => {
    const user = await deployment(t, 'hgetall')
    const reader = await open(t, user)
    await t.rejects(reader.members(), { code: 'GOVEX_ERR_UNAVAILABLE', message: AUDITOR_ADVICE }, 'members')
    await t.rejects(reader.audit.verify({ keys }), { code: 'GOVEX_ERR_UNAVAILABLE', message: AUDITOR_ADVICE }, 'verify (the chain heads)')
  })

  t.test('without SELECT a URL naming another database fails the open naming the section', async t => {
    const user = await deployment(t, 'select')
    const otherDb = new URL(user.url())
    otherDb.pathname = '/3'
    await t.rejects(openRefused(user, otherDb.toString()), { code: 'GOVEX_ERR_UNAVAILABLE', message: AUDITOR_ADVICE })
  })

  t.test('with every documented right nothing is refused (the control)', async t => {
    const user = await deployment(t)
    const reader = await open(t, user)
    t.equal((await reader.audit.query({}, 20)).records.length, 14, '12 records and 2 checkpoints')
    t.match(await reader.audit.verify({ keys }), { ok: true, checked: 14, checkpoints: 2 })
    t.equal((await reader.members()).length, 2)
  })
}
