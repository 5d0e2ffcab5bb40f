// fix-spool-bounded-memory: during a long Redis outage every request still
// leaves an audit record (each 503 is audited). The spool must keep them on
// disk, not in the heap: a gateway holds at most one batch of them in memory,
// at open as while spooling and replaying, and still appends every one to
// Redis in order, the chain intact, once it answers again.
import t from 'tap'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { sealLine, ZERO_DIGEST } from '@govex/core'
import { appendRecords } from '../src/audit-append.js'
import { needRedis, rawClient, scope, REDIS_URL } from './helpers/redis.js'
import { RedisProxy } from './helpers/proxy.js'
import { eventually, exchange } from './helpers/fixtures.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Heap in use after full collections (what is still held). */
function held (): number {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().heapUsed
}

const N = 20_000
const MAX_BATCH = 64
const MB = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`

if (await needRedis(t)) {
  t.test(`${N} records spooled through an outage: at most one batch in memory, all in Redis in order after it`, async t => {
    const s = scope(t)
    const proxy = await RedisProxy.start(REDIS_URL)
    t.teardown(() => proxy.close())
    const spoolDir = t.testdir()
    const options = { url: proxy.url, gatewayId: 'tj.gw.long', spoolDir, maxBatch: MAX_BATCH, commandTimeoutMs: 300 }
    const first = await s.open(options)
    t.equal((await first.audit.append(exchange('tj.mca', 'tj.psb', 0))).seq, 1)
    proxy.down()

    const before = held()
    let window = 0
    for (let i = 1; i <= N; i += 500) {
      // the appends' results are dropped: whatever stays is the log's
      await Promise.all(Array.from({ length: 500 }, (_, j) => first.audit.append(exchange('tj.mca', 'tj.psb', i + j, 'error'))))
      window = Math.max(window, first.audit.spoolWindow)
    }
    const spoolingGrew = held() - before
    const file = join(spoolDir, 'tj.gw.long.jsonl')
    const size = (await stat(file)).size
    t.equal(first.audit.spooled, N, 'every record spooled')
    t.equal(window, 0, 'none of them held in memory while Redis is away')
    t.ok(spoolingGrew < size / 4, `the heap grew ${MB(spoolingGrew)} for a ${MB(size)} spool`)
    await first.close()

    // the next run opens while Redis is still away
    const beforeOpen = held()
    const stores = await s.open({ ...options, waitForRedis: true })
    const openGrew = held() - beforeOpen
    t.equal(stores.audit.spooled, N)
    t.ok(openGrew < size / 4, `opening the ${MB(size)} spool grew the heap ${MB(openGrew)}`)

    const sampler = setInterval(() => { window = Math.max(window, stores.audit.spoolWindow) }, 1)
    t.teardown(() => clearInterval(sampler))
    const raw = await rawClient(t)
    const stream = `${s.prefix}{govex}:audit:tj.gw.long`
    const up = Date.now()
    proxy.open()
    // nobody appends: the spool drains by itself
    await eventually(60_000, async () => await raw.xlen(stream), n => n === N + 1)
    clearInterval(sampler)
    t.pass(`${N} spooled records in Redis ${Date.now() - up} ms after it answered`)
    t.ok(window > 0 && window <= MAX_BATCH, `at most maxBatch records in memory while replaying (${window})`)
    await eventually(5000, () => stores.audit.spooled, n => n === 0)
    t.equal(stores.audit.spoolWindow, 0)
    t.equal(await readFile(file, 'utf8'), '', 'the spool is emptied once Redis holds it')
    const ends = [await raw.xrange(stream, '-', '+', 'COUNT', 1), await raw.xrevrange(stream, '+', '-', 'COUNT', 1)]
    t.same(ends.map(e => e[0]?.[0]), ['1-1', `${N + 1}-1`])
    t.equal((await stores.audit.append(exchange('tj.mca', 'tj.psb', N + 1))).seq, N + 2, 'the chain goes on from the spool')
    t.same(await stores.audit.verify(), { ok: true, checked: N + 2 }, 'in order, the chain intact')
  })

  t.test('a spool read in batches: the records Redis holds already are skipped, the rest replayed, the chain goes on from the spool', async t => {
    const s = scope(t)
    const spoolDir = t.testdir()
    const lines: Array<ReturnType<typeof sealLine>> = []
    let prevHash = ZERO_DIGEST
    for (let seq = 1; seq <= 7; seq++) {
      const sealed = sealLine(exchange('tj.mca', 'tj.psb', seq), { gatewayId: 'tj.gw.test-1', seq, ts: new Date().toISOString(), prevHash })
      lines.push(sealed)
      prevHash = sealed.record.hash
    }
    const raw = await rawClient(t)
    const probe = await s.open()
    // Redis took 1..5 before the gateway stopped, the spool holds 1..7
    t.equal(await appendRecords(raw, probe.keys, 'tj.gw.test-1', lines.slice(0, 5)), 5)
    await probe.close()
    await writeFile(join(spoolDir, 'tj.gw.test-1.jsonl'), lines.map(l => l.line + '\n').join(''))
    const stores = await s.open({ spoolDir, maxBatch: 2 })
    t.same(stores.audit.head(), { seq: 7, hash: prevHash })
    t.ok(stores.audit.spooled <= 2 && stores.audit.spoolWindow <= 2, `only 6 and 7 left (${stores.audit.spooled}), at most a batch in memory`)
    await eventually(3000, async () => await raw.xlen(`${s.prefix}{govex}:audit:tj.gw.test-1`), n => n === 7)
    t.equal((await stores.audit.append(exchange('tj.mca', 'tj.psb', 8))).seq, 8)
    t.same(await stores.audit.verify(), { ok: true, checked: 8 })
  })
}
