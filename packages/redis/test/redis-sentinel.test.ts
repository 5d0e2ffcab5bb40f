// Redis behind Sentinel (ARCHITECTURE.md "Storage": Redis or Sentinel for HA):
// store.url redis-sentinel://host:port[,host:port...][/db]#masterName. A
// sentinel of the test's own (redis-server --sentinel, on a free port) watches
// the test Redis behind a TCP proxy (so the master's address is not the
// default 127.0.0.1:6379); the stores find the master through it, and the
// audit reader, which opens its own socket, reads from that master. Keys under a random
// prefix, deleted afterwards; the sentinel is stopped.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Redis } from 'ioredis'
import { openRedisStores } from '../src/index.js'
import { redactUrl, sentinelOptions } from '../src/connection.js'
import { REDIS_URL, deletePrefix, needRedis, randomPrefix } from './helpers/redis.js'
import { RedisProxy } from './helpers/proxy.js'
import { OwnRedis, freePort } from './helpers/server.js'
import { sleep } from './helpers/fixtures.js'
import { exchangeEntry } from '@govex/core/contract'


t.test('redis-sentinel:// URLs: sentinels, master name, db and password', async t => {
  t.same(sentinelOptions('redis-sentinel://127.0.0.1:26380,sentinel-b,[::1]:26390/3#my%20master'), {
    sentinels: [{ host: '127.0.0.1', port: 26380 }, { host: 'sentinel-b', port: 26379 }, { host: '::1', port: 26390 }],
    name: 'my master',
    db: 3
  })
  t.same(sentinelOptions('redis-sentinel://ops:s%40cret@h1:26379#main'), { sentinels: [{ host: 'h1', port: 26379 }], name: 'main', db: 0, username: 'ops', password: 's@cret' })
  t.same(sentinelOptions('redis-sentinel://:pw@h1#main'), { sentinels: [{ host: 'h1', port: 26379 }], name: 'main', db: 0, password: 'pw' })
  t.equal(sentinelOptions('redis://127.0.0.1:6379/0'), undefined, 'other schemes are not Sentinel')
  for (const bad of ['redis-sentinel://h1:26379', 'redis-sentinel://#main', 'redis-sentinel://h1:99999#main', 'redis-sentinel://h1:x#main']) {
    t.throws(() => sentinelOptions(bad), { code: 'GOVEX_ERR_BAD_REQUEST', message: /redis-sentinel:\/\/host:26379/ }, bad)
  }
  t.equal(redactUrl('redis-sentinel://ops:secret@h1:26379#main'), 'redis-sentinel://ops:***@h1:26379#main')
  await t.rejects(openRedisStores({ url: 'redis-sentinel://h1', gatewayId: 'tj.gw.a', spoolDir: tmpdir() }), { code: 'GOVEX_ERR_BAD_REQUEST' }, 'refused before connecting')
})

/** A sentinel watching the Redis at `masterUrl` as `name`; resolves once it names the master. */
async function startSentinel (dir: string, name: string, masterUrl: string, downAfterMs = 60_000): Promise<{ port: number, child: ChildProcess }> {
  const master = new URL(masterUrl)
  const port = await freePort()
  const conf = join(dir, 'sentinel.conf')
  await writeFile(conf, [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    `sentinel monitor ${name} ${master.hostname} ${master.port === '' ? 6379 : master.port} 1`,
    `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
    `sentinel failover-timeout ${name} 5000`,
    ''
  ].join('\n'))
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' })
  const failed = new Promise<never>((_resolve, reject) => {
    child.once('error', reject)
    child.once('exit', code => { reject(new Error(`redis-server --sentinel exited with ${String(code)}`)) })
  })
  failed.catch(() => {})
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
  probe.on('error', () => {})
  try {
    for (let i = 0; i < 100; i++) {
      const named = await Promise.race([
        probe.connect().catch(() => {}).then(async () => await probe.call('SENTINEL', 'get-master-addr-by-name', name)).catch(() => null),
        failed
      ])
      if (Array.isArray(named)) return { port, child }
      probe.disconnect()
      await sleep(50)
    }
    throw new Error('the sentinel did not name its master within 5 s')
  } finally {
    probe.disconnect()
  }
}

if (await needRedis(t)) {
  t.test('the stores on a master found through Sentinel: documents, admission, audit append, query, verify', async t => {
    const dir = await mkdtemp(join(tmpdir(), 'govex-sentinel-'))
    const name = 'govex-test-' + randomBytes(4).toString('hex')
    const prefix = randomPrefix()
    const proxy = await RedisProxy.start(REDIS_URL)
    t.teardown(async () => { await proxy.close() })
    let sentinel: { port: number, child: ChildProcess }
    try {
      sentinel = await startSentinel(dir, name, proxy.url)
    } catch (err) {
      const reason = `cannot start redis-server --sentinel: ${(err as Error).message}`
      if (process.env.CI === 'true') t.fail(`${reason} (CI=true: Redis tests may not be skipped)`)
      else {
        console.error(`\n!!! SKIPPING the Sentinel tests: ${reason}\n`)
        t.plan(0, `SKIP ${reason}`)
      }
      await rm(dir, { recursive: true, force: true })
      return
    }
    t.teardown(async () => {
      sentinel.child.kill('SIGTERM')
      await deletePrefix(REDIS_URL, prefix)
      await rm(dir, { recursive: true, force: true })
    })
    const stores = await openRedisStores({ url: `redis-sentinel://127.0.0.1:${sentinel.port}#${name}`, prefix, gatewayId: 'tj.gw.sentinel-1', spoolDir: join(dir, 'spool') })
    t.teardown(async () => { await stores.close() })
    await stores.ping()
    await stores.members.put({ id: 'tj.mca', name: 'Civil Affairs', roles: ['agency'], keys: [{ kid: 'k1', kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] })
    t.equal((await stores.members.get('tj.mca'))?.name, 'Civil Affairs', 'a document written and read back')
    const id = randomUUID()
    t.same(await stores.admit({ id, windowS: 60 }), { ok: true })
    t.same(await stores.admit({ id, windowS: 60 }), { ok: false, reason: 'replay' })
    for (let i = 0; i < 3; i++) await stores.audit.append(exchangeEntry())
    t.equal((await stores.audit.query({}, 10)).records.length, 3)
    const before = proxy.accepted
    t.same(await stores.audit.verify(), { ok: true, checked: 3 })
    t.ok(proxy.accepted > before, 'the audit reader connected to the master the sentinel named (through the proxy), not to a default address')
  })
}

if (await needRedis(t)) {
  t.test('a Sentinel failover: the gateway stores move to the promoted replica by themselves', async t => {
    // two servers of the test's own: the shared test Redis is never failed over
    const dir = await mkdtemp(join(tmpdir(), 'govex-failover-'))
    const servers: OwnRedis[] = []
    const children: ChildProcess[] = []
    t.teardown(async () => {
      for (const child of children) child.kill('SIGKILL')
      for (const server of servers) await server.kill()
      await rm(dir, { recursive: true, force: true })
    })
    let master: OwnRedis
    try {
      master = await OwnRedis.start(['--dir', await mkdtemp(join(dir, 'master-'))])
    } catch (err) {
      const reason = `cannot start redis-server: ${(err as Error).message}`
      if (process.env.CI === 'true') t.fail(`${reason} (CI=true: Redis tests may not be skipped)`)
      else {
        console.error(`\n!!! SKIPPING the Sentinel failover test: ${reason}\n`)
        t.plan(0, `SKIP ${reason}`)
      }
      return
    }
    servers.push(master)
    servers.push(await OwnRedis.start(['--dir', await mkdtemp(join(dir, 'replica-')), '--replicaof', '127.0.0.1', String(master.port)]))
    const name = 'govex-failover-' + randomBytes(4).toString('hex')
    const sentinelDir = await mkdtemp(join(dir, 's-'))
    const sentinel = await startSentinel(sentinelDir, name, master.url, 500)
    children.push(sentinel.child)

    const stores = await openRedisStores({ url: `redis-sentinel://127.0.0.1:${sentinel.port}#${name}`, prefix: 'govex:', gatewayId: 'tj.gw.failover-1', spoolDir: join(dir, 'spool') })
    t.teardown(async () => { await stores.close() })
    await stores.members.put({ id: 'tj.mca', name: 'Civil Affairs', roles: ['agency'], keys: [{ kid: 'k1', kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] })
    for (let i = 0; i < 5; i++) await stores.audit.append(exchangeEntry())
    // replication is asynchronous: let the replica catch up before the master dies
    const direct = new Redis({ port: master.port, host: '127.0.0.1' })
    let acked = 0
    for (let i = 0; i < 50 && acked < 1; i++) acked = Number(await direct.call('WAIT', '1', '200'))
    direct.disconnect()
    t.equal(acked, 1, 'the replica has every write')

    await master.kill()
    const killed = Date.now()
    let admitted = false
    while (!admitted && Date.now() - killed < 15_000) {
      admitted = await stores.admit({ id: randomUUID(), windowS: 60 }).then(d => d.ok, () => false)
      if (!admitted) await sleep(100)
    }
    t.ok(admitted, `exchanges admitted again ${Date.now() - killed} ms after the master died (the sentinel promoted the replica)`)
    t.equal((await stores.members.get('tj.mca'))?.name, 'Civil Affairs', 'documents written before the failover are there')
    for (let i = 0; i < 5; i++) await stores.audit.append(exchangeEntry())
    t.same(await stores.audit.verify(), { ok: true, checked: 10 }, 'the audit chain goes on across the failover and verifies')
  })
}
