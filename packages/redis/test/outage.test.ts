// Redis outages, against a redis-server of the test's own: calls fail closed
// with GOVEX_ERR_UNAVAILABLE within 2 s, audit records go to the fsync'd spool,
// and reach Redis in order, with a valid chain, once it answers again.
import t, { type Test } from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { Redis } from 'ioredis'
import type { StoreChange } from '@govex/core'
import { openRedisStores, type RedisStores } from '../src/index.js'
import { OwnRedis } from './helpers/server.js'
import { eventually, exchange } from './helpers/fixtures.js'

function hasRedisServer (): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

async function within (ms: number, call: () => Promise<unknown>): Promise<{ error: unknown, elapsed: number }> {
  const started = Date.now()
  try {
    await call()
    return { error: undefined, elapsed: Date.now() - started }
  } catch (error) {
    return { error, elapsed: Date.now() - started }
  }
}

interface Rig {
  server: OwnRedis
  spoolDir: string
  errors: Error[]
  open (): Promise<RedisStores>
  raw (): Promise<Redis>
}

async function rig (t: Test): Promise<Rig> {
  const server = await OwnRedis.start()
  const spoolDir = await mkdtemp(join(tmpdir(), 'govex-spool-'))
  const errors: Error[] = []
  const opened: RedisStores[] = []
  const clients: Redis[] = []
  t.teardown(async () => {
    await Promise.allSettled(opened.map(s => s.close()))
    for (const c of clients) c.disconnect()
    await server.kill()
    await rm(spoolDir, { recursive: true, force: true })
  })
  return {
    server,
    spoolDir,
    errors,
    async open () {
      const stores = await openRedisStores({ url: server.url, gatewayId: 'tj.gw.edge', spoolDir, commandTimeoutMs: 500, onError: err => errors.push(err) })
      opened.push(stores)
      return stores
    },
    async raw () {
      const client = new Redis(server.url, { lazyConnect: true })
      await client.connect()
      clients.push(client)
      return client
    }
  }
}

const STREAM = 'govex:{govex}:audit:tj.gw.edge'

if (!hasRedisServer()) {
  const reason = 'redis-server is not on PATH: the outage tests start their own'
  if (process.env.CI === 'true') t.fail(reason)
  else {
    console.error(`\n!!! SKIPPING @govex/redis outage tests: ${reason}\n`)
    t.plan(0, `SKIP ${reason}`)
  }
} else {
  t.test('Redis stopped: calls fail closed within 2 s, audit records spool, and replay in order on restart', async t => {
    const r = await rig(t)
    const stores = await r.open()
    const changes: StoreChange[] = []
    stores.subscribe(change => changes.push(change))
    await stores.ping()
    await r.server.kill()

    for (const [name, call] of [
      ['ping', () => stores.ping()],
      ['replay.claim', () => stores.replay.claim('0193a1c2-7c1e-7a35-9b7e-000000000001', 60)],
      ['quota.consume', () => stores.quota.consume('g1', { perMinute: 5 }, Date.now())],
      ['members.get', () => stores.members.get('tj.psb')],
      ['plans.getActive', () => stores.plans.getActive()],
      ['members.put', () => stores.members.put({ id: 'tj.psb', name: 'x', roles: ['agency'], keys: [{ kid: 'k', kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) }] })]
    ] as const) {
      const { error, elapsed } = await within(2000, call)
      t.match(error, { code: 'GOVEX_ERR_UNAVAILABLE', statusCode: 503 }, `${name} rejects with GOVEX_ERR_UNAVAILABLE`)
      t.ok(elapsed < 2000, `${name} within 2 s (${elapsed} ms)`)
    }

    const started = Date.now()
    const records = await Promise.all([1, 2, 3, 4, 5].map(i => stores.audit.append(exchange('tj.mca', 'tj.psb', i, 'error'))))
    t.ok(Date.now() - started < 2000, 'appends resolve within 2 s, durable in the spool')
    t.same(records.map(r => r.seq), [1, 2, 3, 4, 5])
    t.equal(stores.audit.spooled, 5)
    const spool = (await readFile(join(r.spoolDir, 'tj.gw.edge.jsonl'), 'utf8')).trim().split('\n').map(line => JSON.parse(line) as { seq: number })
    t.same(spool.map(r => r.seq), [1, 2, 3, 4, 5], 'in the spool file')
    const more = await stores.audit.append(exchange('tj.mca', 'tj.psb', 6, 'error'))
    t.equal(more.seq, 6, 'the chain goes on in the spool')

    await r.server.start()
    const raw = await r.raw()
    // nobody appends: the spool replays on reconnect by itself
    await eventually(5000, () => raw.xlen(STREAM), n => n === 6)
    t.same(await stores.audit.verify(), { ok: true, checked: 6 })
    const stored = await raw.xrange(STREAM, '-', '+')
    t.same(stored.map(([id]) => id), ['1-1', '2-1', '3-1', '4-1', '5-1', '6-1'], 'in order')
    t.equal(stores.audit.spooled, 0)
    await eventually(2000, async () => (await readFile(join(r.spoolDir, 'tj.gw.edge.jsonl'), 'utf8')).length, n => n === 0)
    t.equal((await stores.audit.append(exchange('tj.mca', 'tj.psb', 7))).seq, 7, 'appends go to Redis again')
    t.equal(await raw.xlen(STREAM), 7)
    await eventually(3000, () => changes.length, n => n > 0)
    t.same(changes[0], { kind: 'reload' }, 'the gateway is told to reload after the reconnect')
    await stores.ping()
    t.ok(r.errors.some(e => /spooling to/.test(e.message)), 'the spooling was reported through onError')
  })

  t.test('settings that break the promises are reported at open', async t => {
    const server = await OwnRedis.start(['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru'])
    t.teardown(() => server.kill())
    const errors: Error[] = []
    const stores = await openRedisStores({ url: server.url, gatewayId: 'tj.gw.edge', onError: err => errors.push(err) })
    await stores.close()
    t.match(errors.map(e => e.message), [/maxmemory-policy is allkeys-lru.*noeviction/, /appendonly yes/], 'without onWarning, warnings reach onError')
    const warnings: string[] = []
    errors.length = 0
    const warned = await openRedisStores({ url: server.url, gatewayId: 'tj.gw.edge', onError: err => errors.push(err), onWarning: message => warnings.push(message) })
    await warned.close()
    t.match(warnings, [/maxmemory-policy is allkeys-lru.*noeviction/, /appendonly yes/], 'with onWarning, warnings reach it')
    t.same(errors, [], 'and are not reported as failures')
  })

  t.test('Redis frozen (connection open, no answers): deadlines hold, the ambiguous batch is not doubled', async t => {
    const r = await rig(t)
    const stores = await r.open()
    for (let i = 1; i <= 3; i++) await stores.audit.append(exchange('tj.mca', 'tj.psb', i))
    r.server.freeze()
    const { error, elapsed } = await within(2000, () => stores.replay.claim('0193a1c2-7c1e-7a35-9b7e-000000000002', 60))
    t.match(error, { code: 'GOVEX_ERR_UNAVAILABLE' })
    t.ok(elapsed < 2000, `replay.claim within 2 s (${elapsed} ms)`)
    const ping = await within(2000, () => stores.ping())
    t.match(ping.error, { code: 'GOVEX_ERR_UNAVAILABLE' })
    t.ok(ping.elapsed < 2000, `ping within 2 s (${ping.elapsed} ms)`)
    // this batch times out, but Redis will run it when it wakes up: the replay must not double it
    const started = Date.now()
    const spooled = await Promise.all([4, 5, 6].map(i => stores.audit.append(exchange('tj.mca', 'tj.psb', i))))
    t.ok(Date.now() - started < 2000, `appends spool within 2 s (${Date.now() - started} ms)`)
    t.same(spooled.map(x => x.seq), [4, 5, 6])
    r.server.thaw()
    const raw = await r.raw()
    await eventually(5000, async () => stores.audit.spooled, n => n === 0)
    t.equal(await raw.xlen(STREAM), 6, 'six records, none twice')
    t.same(await stores.audit.verify(), { ok: true, checked: 6 })
  })

  t.test('a spool left by a stopped gateway is replayed by the next one at open', async t => {
    const r = await rig(t)
    const first = await r.open()
    await r.server.kill()
    const left = await Promise.all([1, 2, 3].map(i => first.audit.append(exchange('tj.mca', 'tj.psb', i))))
    await first.close()
    await r.server.start()
    const again = await r.open()
    t.same(again.audit.head(), { seq: 3, hash: left[2]?.hash }, 'the head includes the spooled records')
    const raw = await r.raw()
    await eventually(3000, () => raw.xlen(STREAM), n => n === 3)
    t.equal((await again.audit.append(exchange('tj.mca', 'tj.psb', 4))).seq, 4)
    t.same(await again.audit.verify(), { ok: true, checked: 4 })
  })

  t.test('a gateway without a spool directory rejects appends while Redis is away', async t => {
    const r = await rig(t)
    const stores = await openRedisStores({ url: r.server.url, gatewayId: 'tj.gw.edge', commandTimeoutMs: 300 })
    t.teardown(() => stores.close())
    await stores.audit.append(exchange('tj.mca', 'tj.psb', 1))
    r.server.freeze()
    await t.rejects(stores.audit.append(exchange('tj.mca', 'tj.psb', 2)), { code: 'GOVEX_ERR_UNAVAILABLE' })
    r.server.thaw()
    // the timed-out append may have landed after all: the next one starts from what Redis holds
    const next = await stores.audit.append(exchange('tj.mca', 'tj.psb', 3))
    t.ok(next.seq === 2 || next.seq === 3, `seq ${next.seq} continues the stored chain`)
    t.same(await stores.audit.verify(), { ok: true, checked: next.seq })
  })
}
