// Audit appends on Redis: records/s and latency at several concurrencies (each
// caller awaits its append, as a gateway request does), then a consumer query
// and verify over what was written. Run after `npx tsc -b`:
//   node packages/redis/bench/append.js [seconds per round, default 2] [redis url]
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { openRedisStores } from '../dist/index.js'
import { benchEntry as entry } from '../../../bench/lib/audit-entry.js'

const seconds = Number(process.argv[2] ?? 2)
const url = process.argv[3] ?? process.env.GOVEX_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `govex-bench-${randomBytes(4).toString('hex')}:`


const fmt = n => Math.round(n).toLocaleString('en-US')
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]

const stores = await openRedisStores({ url, prefix, gatewayId: 'tj.gw.bench' })
let i = 0
try {
  for (const concurrency of [1, 16, 128, 512]) {
    const batchesBefore = stores.audit.batches
    const latencies = []
    const until = Date.now() + seconds * 1000
    const cpu = process.cpuUsage()
    const started = process.hrtime.bigint()
    let done = 0
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const t0 = process.hrtime.bigint()
        await stores.audit.append(entry(i++))
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
        done++
      }
    }))
    const wall = Number(process.hrtime.bigint() - started) / 1e9
    const used = process.cpuUsage(cpu)
    latencies.sort((a, b) => a - b)
    const batches = stores.audit.batches - batchesBefore
    console.log(`concurrency ${String(concurrency).padStart(3)}: ${fmt(done / wall).padStart(7)} appends/s, p50 ${pct(latencies, 0.5).toFixed(2)} ms, p99 ${pct(latencies, 0.99).toFixed(2)} ms, ` +
      `${(done / batches).toFixed(1)} records/round trip, gateway CPU ${fmt((used.user + used.system) / done)} µs/record`)
  }
  const total = stores.audit.head().seq
  let t0 = Date.now()
  const page = await stores.audit.query({ consumer: 'tj.mca', outcome: 'denied' }, 100)
  console.log(`query consumer+outcome, 100 records of ${fmt(total)}: ${Date.now() - t0} ms (${page.records.length} records)`)
  t0 = Date.now()
  const result = await stores.audit.verify()
  const took = Date.now() - t0
  console.log(`verify ${fmt(result.checked)} records: ${took} ms (${fmt(result.checked / (took / 1000))} records/s), ok=${result.ok}`)
} finally {
  await stores.close()
  const client = new Redis(url)
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await client.del(...keys)
  } while (cursor !== '0')
  client.disconnect()
}
