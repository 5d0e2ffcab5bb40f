// Audit at scale (issue 7): fills a log with 1,000,000 generated exchange
// records (file store, and Redis under a random key prefix that is removed
// afterwards), then measures what auditors wait for:
//   - opening the file log (its tail only) and building its in-memory index (on the first query),
//   - a query by consumer over one day: first page latency (goal < 50 ms),
//   - verify: records/s over the whole log, checkpoint signatures included (goal ≥ 200,000/s),
//   - export of every record as NDJSON: peak RSS of the exporting process (goal < 200 MB),
//   - verifying the exported file offline (`govex audit verify --file`).
// Each measurement that reports memory runs in a child process of its own.
// Run after `npx tsc -b`:  node bench/audit/index.js      (SMOKE=1: 5,000 records)
// Env: RECORDS=n, GOVEX_TEST_REDIS_URL (default redis://127.0.0.1:6379), NO_REDIS=1,
// VERIFY_THREADS=n (worker threads of the file log's verify and of verify --file;
// default: one per core, at most 4, for logs of 32 MB or more; 0: none).
import { spawnSync } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, mkdir, rm, stat } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { dropRedisKeys } from '../lib/common.js'
import {
  sealLine, checkpointAfter, checkpointSigner, checkpointKeysOf, generateKeyPair, ZERO_DIGEST
} from '../../packages/core/dist/index.js'

const SELF = fileURLToPath(import.meta.url)
const SMOKE = process.env.SMOKE === '1'
const N = Number(process.env.RECORDS ?? (SMOKE ? 5_000 : 1_000_000))
const GW = 'tj.gw.bench-1'
const EVERY = 1000
const DAYS = 365
const DAY_MS = 86_400_000
const T0 = Date.parse('2025-01-01T00:00:00.000Z')
const REDIS_URL = process.env.GOVEX_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const VERIFY_THREADS = process.env.VERIFY_THREADS === undefined ? undefined : Number(process.env.VERIFY_THREADS)

const CONSUMERS = Array.from({ length: 20 }, (_, i) => `tj.agency-${i}`)
const PROVIDERS = ['tj.psb', 'tj.civil', 'tj.hrss', 'tj.tax', 'tj.health']
const PURPOSES = ['minimum-living-guarantee-review', 'pension-eligibility', 'tax-assessment']

/** A deterministic exchange entry for the i-th record. */
function entry (i) {
  const provider = PROVIDERS[i % PROVIDERS.length]
  const denied = i % 13 === 0
  return {
    kind: 'exchange',
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    consumer: CONSUMERS[(i * 7) % CONSUMERS.length],
    provider,
    resource: `${provider}:resource-${i % 3}`,
    userId: `officer-${i % 500}`,
    purpose: PURPOSES[i % PURPOSES.length],
    caseRef: `CASE-2025-${String(i % 100_000).padStart(6, '0')}`,
    plan: { id: 'tj-sharing-plan', version: 3 },
    grantId: denied ? null : `grant-${i % 40}`,
    fields: ['name', 'householdAddress'],
    outcome: denied ? 'denied' : i % 101 === 0 ? 'error' : 'allowed',
    code: denied ? 'GOVEX_ERR_NO_GRANT' : i % 101 === 0 ? 'GOVEX_ERR_UPSTREAM' : null,
    status: denied ? 403 : i % 101 === 0 ? 502 : 200,
    latencyMs: Math.round((2 + (i % 97) / 4 + (i % 1009 === 0 ? 400 : 0)) * 10) / 10,
    digests: denied ? null : { request: 'sha256:' + 'a'.repeat(64), response: 'sha256:' + 'b'.repeat(64) }
  }
}

/** Seals N records (a checkpoint every EVERY seqs) spread over DAYS days; calls `sink(sealed)` for each. */
async function generate (privateJwk, sink) {
  const checkpoint = { every: EVERY, sign: checkpointSigner(privateJwk) }
  const step = DAYS * DAY_MS / N
  let prevHash = ZERO_DIGEST
  let seq = 0
  for (let i = 0; i < N; i++) {
    const sealed = sealLine(entry(i), { gatewayId: GW, seq: ++seq, ts: new Date(T0 + Math.floor(i * step)).toISOString(), prevHash })
    prevHash = sealed.record.hash
    await sink(sealed)
    const cp = checkpointAfter(sealed.record, checkpoint)
    if (cp !== undefined) {
      seq = cp.record.seq
      prevHash = cp.record.hash
      await sink(cp)
    }
  }
  return seq
}

async function writeFileLog (dir, privateJwk) {
  await mkdir(join(dir, 'audit'), { recursive: true })
  const out = createWriteStream(join(dir, 'audit', `${GW}.jsonl`))
  let chunk = ''
  const flush = async () => {
    if (!out.write(chunk)) await new Promise(resolve => out.once('drain', resolve))
    chunk = ''
  }
  const total = await generate(privateJwk, async ({ line }) => {
    chunk += line + '\n'
    if (chunk.length > 1 << 20) await flush()
  })
  await flush()
  await new Promise((resolve, reject) => out.end(err => err ? reject(err) : resolve()))
  return total
}

async function fillRedis (redis, keys, privateJwk) {
  const { appendRecords } = await import('../../packages/redis/dist/audit-append.js')
  let batch = []
  const total = await generate(privateJwk, async sealed => {
    batch.push(sealed)
    if (batch.length === 1000) {
      await appendRecords(redis, keys, GW, batch)
      batch = []
    }
  })
  if (batch.length > 0) await appendRecords(redis, keys, GW, batch)
  return total
}

const ms = start => Number(process.hrtime.bigint() - start) / 1e6
const fmt = n => Math.round(n).toLocaleString('en-US')
const mb = kb => (kb / 1024).toFixed(0)

/** The query an auditor runs most: one consumer, one day; first page latencies over several days. */
async function queryDays (audit) {
  const times = []
  let rows = 0
  for (let d = 0; d < 12; d++) {
    const day = 15 + d * 29
    const filter = {
      consumer: CONSUMERS[d % CONSUMERS.length],
      from: new Date(T0 + day * DAY_MS).toISOString(),
      to: new Date(T0 + (day + 1) * DAY_MS).toISOString()
    }
    const start = process.hrtime.bigint()
    const page = await audit.query(filter, 100)
    times.push(ms(start))
    rows += page.records.length
  }
  times.sort((a, b) => a - b)
  return { median: times[times.length >> 1], max: times[times.length - 1], rows: rows / times.length }
}

// ---- child processes: one measurement each, so peak RSS is its own ----

async function child (kind, what, arg, keysJson) {
  const keys = checkpointKeysOf(JSON.parse(keysJson))
  let audit
  let close
  const out = {}
  let start = process.hrtime.bigint()
  if (kind === 'file') {
    const { FileAuditLog } = await import('../../packages/core/dist/index.js')
    audit = await FileAuditLog.open({ dir: arg, gatewayId: 'govex-cli.reader-bench', verifyThreads: VERIFY_THREADS })
    out.openS = ms(start) / 1000
    close = async () => { await audit.close(); await rm(join(arg, 'audit', 'govex-cli.reader-bench.jsonl'), { force: true }) }
  } else if (kind === 'redis') {
    const { openRedisStores } = await import('../../packages/redis/dist/index.js')
    const stores = await openRedisStores({ url: REDIS_URL, prefix: arg, gatewayId: 'govex-cli.reader-bench' })
    audit = stores.audit
    close = async () => { await stores.close() }
  }
  out.rssAfterOpenMb = mb(process.memoryUsage().rss / 1024)
  if (what === 'read') {
    // the first query builds the file log's index; later ones measure the query
    start = process.hrtime.bigint()
    await audit.query({ consumer: CONSUMERS[0] }, 100)
    out.firstQueryS = ms(start) / 1000
    out.rssAfterIndexMb = mb(process.memoryUsage().rss / 1024)
    Object.assign(out, { query: await queryDays(audit) })
    start = process.hrtime.bigint()
    const stats = await audit.statistics('consumer', { from: new Date(T0 + 30 * DAY_MS).toISOString(), to: new Date(T0 + 37 * DAY_MS).toISOString() })
    out.statsWeekMs = ms(start)
    out.statsWeekRecords = stats.total
    start = process.hrtime.bigint()
    const cpu = process.cpuUsage()
    const result = await audit.verify({ keys })
    const t = ms(start)
    const used = process.cpuUsage(cpu)
    // CPU time holds better than wall time on a shared, busy machine
    out.verify = { ok: result.ok, checked: result.checked, checkpoints: result.checkpoints, perS: result.checked / t * 1000, perCpuS: result.checked / (used.user + used.system) * 1e6, s: t / 1000 }
    start = process.hrtime.bigint()
    const range = await audit.verify({ keys, from: new Date(T0 + 100 * DAY_MS).toISOString(), to: new Date(T0 + 101 * DAY_MS).toISOString() })
    out.rangeVerify = { ok: range.ok, checked: range.checked, ms: ms(start) }
  } else if (what === 'export') {
    const file = join(tmpdir(), `govex-bench-export-${process.pid}.ndjson`)
    const sink = createWriteStream(file)
    start = process.hrtime.bigint()
    let n = 0
    let chunk = ''
    for await (const r of audit.scan({})) {
      chunk += JSON.stringify(r) + '\n'
      if (++n % 256 === 0) {
        if (!sink.write(chunk)) await new Promise(resolve => sink.once('drain', resolve))
        chunk = ''
      }
    }
    sink.write(chunk)
    await new Promise(resolve => sink.end(resolve))
    const t = ms(start)
    out.export = { records: n, perS: n / t * 1000, s: t / 1000, bytes: (await stat(file)).size, file }
  }
  await close()
  out.peakRssMb = mb(process.resourceUsage().maxRSS)
  process.stdout.write(JSON.stringify(out) + '\n')
}

async function verifyExport (file, keysJson) {
  const { verifyFile } = await import('../../packages/core/dist/index.js')
  const keys = checkpointKeysOf(JSON.parse(keysJson))
  const start = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  // what `govex audit verify --file` does
  const result = await verifyFile(file, { keys, threads: VERIFY_THREADS })
  const t = ms(start)
  const used = process.cpuUsage(cpu)
  await rm(file, { force: true })
  process.stdout.write(JSON.stringify({ ok: result.ok, checked: result.checked, perS: result.checked / t * 1000, perCpuS: result.checked / (used.user + used.system) * 1e6, peakRssMb: mb(process.resourceUsage().maxRSS) }) + '\n')
}

function run (...args) {
  const r = spawnSync(process.execPath, [SELF, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

async function main () {
  const { privateJwk, publicJwk } = generateKeyPair('bench-gw-1')
  const keysJson = JSON.stringify([{ id: GW, name: 'bench gateway', roles: ['gateway'], keys: [publicJwk] }])
  const rows = []
  const dir = await mkdtemp(join(tmpdir(), 'govex-bench-audit-'))
  try {
    console.log(`bench/audit: ${fmt(N)} exchange records over ${DAYS} days, a checkpoint every ${EVERY} seqs; node ${process.version}, ${availableParallelism()} cores, verify threads ${VERIFY_THREADS ?? 'default'}`)
    let start = process.hrtime.bigint()
    const total = await writeFileLog(dir, privateJwk)
    const size = (await stat(join(dir, 'audit', `${GW}.jsonl`))).size
    console.log(`file: wrote ${fmt(total)} records (${(size / 1e6).toFixed(0)} MB) in ${(ms(start) / 1000).toFixed(1)} s`)
    const read = run('--child', 'file', 'read', dir, keysJson)
    const exp = run('--child', 'file', 'export', dir, keysJson)
    const off = run('--verify-export', exp.export.file, keysJson)
    rows.push(['file', read, exp, off])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }

  if (process.env.NO_REDIS !== '1') {
    const require = createRequire(new URL('../../packages/redis/package.json', import.meta.url))
    const Redis = require('ioredis')
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
    let reachable = true
    try {
      await redis.connect()
    } catch (err) {
      reachable = false
      console.log(`redis: skipped, ${REDIS_URL} unreachable (${err.message})`)
      redis.disconnect()
    }
    if (reachable) {
      const prefix = `govex-bench-${randomBytes(4).toString('hex')}:`
      const { keyLayout } = await import('../../packages/redis/dist/keys.js')
      try {
        const start = process.hrtime.bigint()
        const total = await fillRedis(redis, keyLayout(prefix), privateJwk)
        console.log(`redis: appended ${fmt(total)} records in ${(ms(start) / 1000).toFixed(1)} s (prefix ${prefix})`)
        const read = run('--child', 'redis', 'read', prefix, keysJson)
        const exp = run('--child', 'redis', 'export', prefix, keysJson)
        const off = run('--verify-export', exp.export.file, keysJson)
        rows.push(['redis', read, exp, off])
      } finally {
        redis.disconnect()
        await dropRedisKeys(REDIS_URL, prefix)
      }
    }
  }

  console.log('')
  console.log('| store | open | index build (1st query) | query consumer/day, 1st page (median / max) | stats, 1 week | verify (whole log), wall / CPU | verify 1 day from checkpoint | export NDJSON | export peak RSS | verify --file, wall / CPU |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const [store, read, exp, off] of rows) {
    console.log(`| ${store} | ${read.openS === undefined ? 'n/a' : (read.openS * 1000).toFixed(0) + ' ms'} | ` +
      `${read.openS === undefined ? 'n/a (sorted sets)' : read.firstQueryS.toFixed(1) + ' s, ' + read.rssAfterIndexMb + ' MB RSS'} | ` +
      `${read.query.median.toFixed(1)} / ${read.query.max.toFixed(1)} ms (${read.query.rows.toFixed(0)} rows) | ` +
      `${fmt(read.statsWeekMs)} ms (${fmt(read.statsWeekRecords)} rec) | ` +
      `${fmt(read.verify.perS)} / ${fmt(read.verify.perCpuS)} rec/s (${read.verify.s.toFixed(1)} s, ${read.verify.ok ? 'ok' : 'BROKEN'}, ${fmt(read.verify.checkpoints ?? 0)} signatures) | ` +
      `${read.rangeVerify.ms.toFixed(0)} ms (${fmt(read.rangeVerify.checked)} rec, ${read.rangeVerify.ok ? 'ok' : 'BROKEN'}) | ` +
      `${fmt(exp.export.perS)} rec/s (${(exp.export.bytes / 1e6).toFixed(0)} MB) | ${exp.peakRssMb} MB | ` +
      `${fmt(off.perS)} / ${fmt(off.perCpuS)} rec/s, ${off.peakRssMb} MB (${off.ok ? 'ok' : 'BROKEN'}) |`)
  }
  const bad = rows.some(([, read, , off]) => !read.verify.ok || !read.rangeVerify.ok || !off.ok)
  if (bad) {
    console.error('a generated log did not verify: that is a bug')
    process.exitCode = 1
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], process.argv[5], process.argv[6])
else if (process.argv[2] === '--verify-export') await verifyExport(process.argv[3], process.argv[4])
else await main()
