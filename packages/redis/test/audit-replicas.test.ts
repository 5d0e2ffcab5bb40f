// store.auditReplicas (Redis WAIT): an audit append resolves only once that
// many replicas acknowledged it. Against a master and a replica of the test's
// own (never the shared Redis): with the replica live an append succeeds and
// the replica holds it; with the replica frozen (SIGSTOP) the append fails
// closed within the call deadline, its record kept in the spool; once the
// replica answers again the spool is appended, and nothing is stored twice.
import t, { type Test } from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { openRedisStores, type RedisStores } from '../src/index.js'
import { replicaWaitMs } from '../src/open.js'
import { OwnRedis } from './helpers/server.js'
import { eventually, exchange } from './helpers/fixtures.js'

const STREAM = 'govex:{govex}:audit:tj.gw.edge'
const TIMEOUT_MS = 400

interface Pair {
  master: OwnRedis
  replica: OwnRedis
  spoolDir: string
  errors: Error[]
  open (options?: { spool?: boolean }): Promise<RedisStores>
  raw (server: OwnRedis): Promise<Redis>
}

async function pair (t: Test): Promise<Pair> {
  const master = await OwnRedis.start()
  const replica = await OwnRedis.start(['--replicaof', '127.0.0.1', String(master.port)])
  const spoolDir = await mkdtemp(join(tmpdir(), 'govex-replicas-'))
  const errors: Error[] = []
  const opened: RedisStores[] = []
  const clients: Redis[] = []
  t.teardown(async () => {
    replica.thaw()
    await Promise.allSettled(opened.map(s => s.close()))
    for (const c of clients) c.disconnect()
    await replica.kill()
    await master.kill()
    await rm(spoolDir, { recursive: true, force: true })
  })
  const raw = async (server: OwnRedis): Promise<Redis> => {
    const client = new Redis(server.url, { lazyConnect: true })
    await client.connect()
    clients.push(client)
    return client
  }
  // the replica's first sync done: a write on the master reaches it
  const m = await raw(master)
  await eventually(5000, async () => Number(await m.call('WAIT', '1', '100')), n => n === 1)
  return {
    master,
    replica,
    spoolDir,
    errors,
    raw,
    async open ({ spool = true } = {}) {
      const stores = await openRedisStores({ url: master.url, gatewayId: 'tj.gw.edge', auditReplicas: 1, commandTimeoutMs: TIMEOUT_MS, ...(spool ? { spoolDir } : {}), onError: err => errors.push(err) })
      opened.push(stores)
      return stores
    }
  }
}

async function elapsed (call: () => Promise<unknown>): Promise<{ error: unknown, ms: number }> {
  const started = Date.now()
  try {
    await call()
    return { error: undefined, ms: Date.now() - started }
  } catch (error) {
    return { error, ms: Date.now() - started }
  }
}

t.test('auditReplicas 1: acknowledged by a live replica; a frozen one fails the append closed, spooled, appended once when it is back', async t => {
  const p = await pair(t)
  const stores = await p.open()
  const master = await p.raw(p.master)
  const replica = await p.raw(p.replica)

  const first = await stores.audit.append(exchange('tj.mca', 'tj.psb', 1))
  t.equal(first.seq, 1, 'an append with a live replica succeeds')
  t.equal(await replica.xlen(STREAM), 1, 'and the replica holds the record when the append resolves')
  const names = String(await master.call('CLIENT', 'LIST'))
  t.match(names, /name=govex:tj\.gw\.edge\/audit/, 'appends go on a connection of their own')

  p.replica.freeze()
  const failed = await elapsed(() => stores.audit.append(exchange('tj.mca', 'tj.psb', 2)))
  t.match(failed.error, { code: 'GOVEX_ERR_UNAVAILABLE', statusCode: 503, message: /only 0 of the 1 Redis replicas/ }, 'the append fails closed')
  t.ok(failed.ms < TIMEOUT_MS + 200, `within the call deadline (${failed.ms} ms; WAIT ${replicaWaitMs(TIMEOUT_MS)} ms, deadline ${TIMEOUT_MS} ms)`)
  t.equal(stores.audit.spooled, 1, 'its record is kept in the spool')
  const spooled = (await readFile(join(p.spoolDir, 'tj.gw.edge.jsonl'), 'utf8')).trim().split('\n').map(line => (JSON.parse(line) as { seq: number }).seq)
  t.same(spooled, [2], 'fsync\'d in the spool file')
  const next = await elapsed(() => stores.audit.append(exchange('tj.mca', 'tj.psb', 3)))
  t.match(next.error, { code: 'GOVEX_ERR_UNAVAILABLE' }, 'an append behind unconfirmed records fails closed too')
  t.equal(stores.audit.spooled, 2)

  p.replica.thaw()
  await eventually(10_000, async () => stores.audit.spooled, n => n === 0)
  t.same((await master.xrange(STREAM, '-', '+')).map(([id]) => id), ['1-1', '2-1', '3-1'], 'on the master once each, in order')
  await eventually(5000, () => replica.xlen(STREAM), n => n === 3)
  t.same((await replica.xrange(STREAM, '-', '+')).map(([id]) => id), ['1-1', '2-1', '3-1'], 'and on the replica')
  t.equal((await readFile(join(p.spoolDir, 'tj.gw.edge.jsonl'), 'utf8')), '', 'the spool is emptied')
  const after = await stores.audit.append(exchange('tj.mca', 'tj.psb', 4))
  t.equal(after.seq, 4, 'appends succeed again and continue the chain')
  t.same(await stores.audit.verify(), { ok: true, checked: 4 })
})

t.test('auditReplicas 1 without a spool: the append rejects, and the next one continues from what the master holds', async t => {
  const p = await pair(t)
  const stores = await p.open({ spool: false })
  const master = await p.raw(p.master)
  await stores.audit.append(exchange('tj.mca', 'tj.psb', 1))
  p.replica.freeze()
  const failed = await elapsed(() => stores.audit.append(exchange('tj.mca', 'tj.psb', 2)))
  t.match(failed.error, { code: 'GOVEX_ERR_UNAVAILABLE', message: /only 0 of the 1/ })
  t.ok(failed.ms >= replicaWaitMs(TIMEOUT_MS) - 20 && failed.ms < TIMEOUT_MS, `the master answered after its WAIT, before the call deadline (${failed.ms} ms; WAIT ${replicaWaitMs(TIMEOUT_MS)} ms)`)
  p.replica.thaw()
  await eventually(5000, async () => Number(await master.call('WAIT', '1', '100')), n => n === 1)
  const next = await stores.audit.append(exchange('tj.mca', 'tj.psb', 3))
  t.equal(next.seq, 3, 'the unconfirmed record (it reached the master) is not sealed again')
  t.equal(await master.xlen(STREAM), 3)
  t.same(await stores.audit.verify(), { ok: true, checked: 3 })
})

t.test('a spool left by a run whose records the master holds but no replica confirmed is appended (a no-op) and waited for at the next open', async t => {
  const p = await pair(t)
  const first = await p.open()
  await first.audit.append(exchange('tj.mca', 'tj.psb', 1))
  p.replica.freeze()
  await t.rejects(first.audit.append(exchange('tj.mca', 'tj.psb', 2)), { code: 'GOVEX_ERR_UNAVAILABLE' })
  await first.close()
  t.equal((await readFile(join(p.spoolDir, 'tj.gw.edge.jsonl'), 'utf8')).trim().split('\n').length, 1, 'record 2 left in the spool')
  p.replica.thaw()
  const second = await p.open()
  await eventually(10_000, async () => second.audit.spooled, n => n === 0)
  const master = await p.raw(p.master)
  t.equal(await master.xlen(STREAM), 2, 'not stored twice')
  t.equal((await second.audit.append(exchange('tj.mca', 'tj.psb', 3))).seq, 3)
  t.same(await second.audit.verify(), { ok: true, checked: 3 })
})

t.test('auditReplicas is checked at open; the WAIT timeout stays under the call deadline', async t => {
  t.same([600, 400, 1000, 200, 100, 1].map(replicaWaitMs), [450, 250, 750, 50, 1, 1], '3/4 of the deadline, at least 150 ms under it (Redis ends a WAIT up to a 100 ms tick late), at least 1 (WAIT 0 would block for ever)')
  for (const bad of [-1, 1.5, 17]) {
    await t.rejects(openRedisStores({ url: 'redis://127.0.0.1:1', gatewayId: 'tj.gw.edge', auditReplicas: bad }), { code: 'GOVEX_ERR_BAD_REQUEST', message: /auditReplicas must be an integer from 0/ }, String(bad))
  }
})
