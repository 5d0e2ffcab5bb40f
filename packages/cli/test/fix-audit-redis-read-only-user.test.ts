// `govex audit query|verify|stats|export --config` on a Redis store opened it
// as a gateway does (openRedisStores): a second connection SUBSCRIBEd to the
// change channel, the server check's INFO, a chain head of its own. An
// auditor's Redis user needed the gateway's rights, though the command only
// reads; a read-only user got NOPERM. It now opens @govex/redis's
// openRedisAuditReader: one connection, no subscription, no key written. Run
// here under a real ACL user made with the exact ACL SETUSER line of
// docs/operator-guide.md ("A Redis user for auditors"), named by
// GOVEX_STORE__URL as the guide says, against records and members a gateway's
// full store wrote (the user and the keys are deleted afterwards).
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { checkpointKeysOf, checkpointSigner, parseDocument } from '@govex/core'
import type { AuditPage, AuditRecord, PrivateJwk } from '@govex/core'
import { openRedisStores } from '@govex/redis'
import { govex, tempDir } from './helpers/run.js'
import { REDIS_URL, needRedis, rawClient } from '../../redis/test/helpers/redis.js'
import { aclUser } from '../../redis/test/helpers/acl.js'

const GUIDE = fileURLToPath(new URL('../../../docs/operator-guide.md', import.meta.url))
const GW = 'city.gw.extranet-1'

/** The auditor's ACL SETUSER line of the operator guide: its rules (shell quoting undone), for `password` and `prefix`. */
async function documentedRules (password: string, prefix: string): Promise<string[]> {
  const guide = await readFile(GUIDE, 'utf8')
  const block = /```sh\n(redis-cli ACL SETUSER govex-audit [^`]*)```/.exec(guide)?.[1]
  if (block === undefined) throw new Error('docs/operator-guide.md has no "redis-cli ACL SETUSER govex-audit" block')
  const words = [...block.replace(/\\\n/g, ' ').matchAll(/'([^']*)'|(\S+)/g)].map(m => (m[1] ?? m[2]) as string)
  // redis-cli ACL SETUSER govex-audit <rules>
  return words.slice(4).map(w => w.startsWith('>') ? `>${password}` : w.replaceAll('govex:', prefix))
}

async function keysUnder (admin: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, found] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    keys.push(...found)
  } while (cursor !== '0')
  return keys.sort()
}

if (await needRedis(t)) {
  t.test('audit query, verify, stats and export under the guide\'s read-only auditor user', async t => {
    const dir = await tempDir(t)
    t.equal((await govex(['init', dir])).code, 0)
    const admin = await rawClient(t)
    // a user of its own (rights given below), under a key prefix of its own; both deleted afterwards
    const user = await aclUser(t, 'audit')
    const prefix = user.prefix

    // the gateway's config names a Redis store; its gateway writes members and records
    const config = join(dir, 'govex.config.json')
    const file = JSON.parse(await readFile(config, 'utf8')) as Record<string, unknown>
    await writeFile(config, JSON.stringify({ ...file, store: { kind: 'redis', url: REDIS_URL, prefix } }, null, 2))
    const parsed = parseDocument('members', await readFile(join(dir, 'members.json'), 'utf8'))
    if (!parsed.ok) throw new Error('init wrote no member list')
    const key = JSON.parse(await readFile(join(dir, 'keys', `${GW}.key.json`), 'utf8')) as PrivateJwk
    const stores = await openRedisStores({ url: REDIS_URL, prefix, gatewayId: GW, checkpoint: { every: 25, sign: checkpointSigner(key) } })
    t.teardown(async () => { await stores.close() })
    for (const m of parsed.value) await stores.members.put(m)
    await Promise.all(Array.from({ length: 120 }, async (_, i) => await stores.audit.append(i % 4 === 3
      ? { kind: 'admin', id: randomUUID(), actor: 'city.it-office', action: 'member.put', target: 'city.mca', digest: null, outcome: 'denied', code: 'GOVEX_ERR_INVALID_DOCUMENT', status: 422 }
      : { kind: 'exchange', id: randomUUID(), consumer: i % 2 === 0 ? 'city.mca' : 'city.hrss', provider: 'city.psb', resource: 'city.psb:household-registration', userId: `officer-${i}`, purpose: 'review', caseRef: `MCA-${i}`, plan: { id: 'city-sharing-plan', version: 1 }, grantId: 'mca-household', fields: ['name'], outcome: 'allowed', code: null, status: 200, latencyMs: i % 17, digests: null })))

    await user.setUser(...await documentedRules(user.password, prefix))
    // the line is as narrow as the guide says: no write, no channel
    const probe = new Redis(user.url(), { lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false })
    probe.on('error', () => {})
    await probe.connect()
    await t.rejects(probe.set(`${prefix}{govex}:x`, '1'), /NOPERM/, 'the auditor user cannot write')
    await t.rejects(probe.subscribe(`${prefix}changes`), /NOPERM/, 'nor subscribe')
    probe.disconnect()
    const before = await keysUnder(admin, prefix)
    // the guide's way: the gateway's config, the auditor's URL
    const env = { GOVEX_STORE__URL: user.url() }

    const pages: AuditPage[] = []
    const expected: AuditPage[] = []
    let cursor: string | undefined
    do {
      const r = await govex(['audit', 'query', '--config', config, '--consumer', 'city.mca', '--limit', '20', '--json', ...(cursor === undefined ? [] : ['--cursor', cursor])], { env })
      t.equal(r.code, 0, r.stderr)
      const page = JSON.parse(r.stdout) as AuditPage
      pages.push(page)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    do {
      const page = await stores.audit.query({ consumer: 'city.mca' }, 20, cursor)
      expected.push(page)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    t.same(pages, expected, 'query pages and cursors')
    t.ok(pages.length > 1)

    const verify = await govex(['audit', 'verify', '--config', config, '--json'], { env })
    t.equal(verify.code, 0, verify.stdout + verify.stderr)
    const verified = JSON.parse(verify.stdout) as Awaited<ReturnType<typeof stores.audit.verify>>
    t.same(verified, await stores.audit.verify({ keys: checkpointKeysOf(parsed.value.filter(m => m.roles.includes('gateway'))) }), 'verify')
    t.ok((verified.checkpoints ?? 0) > 0, 'checkpoints checked with the gateway key of the members it read')

    const stats = await govex(['audit', 'stats', '--config', config, '--by', 'consumer', '--json'], { env })
    t.equal(stats.code, 0, stats.stderr)
    t.same(JSON.parse(stats.stdout), await stores.audit.statistics('consumer', {}), 'stats')

    const exported = await govex(['audit', 'export', '--config', config], { env })
    t.equal(exported.code, 0, exported.stderr)
    const records: AuditRecord[] = []
    for await (const r of stores.audit.scan({})) records.push(r)
    t.same(exported.stdout.trim().split('\n').map(l => JSON.parse(l) as AuditRecord), records, 'export')

    t.same(await keysUnder(admin, prefix), before, 'no key made or removed')
  })
}
