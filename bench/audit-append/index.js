// Audit log throughput: sealing (canonical JSON + sha256) per record, file-log
// appends with group commit at several concurrencies, and reading a large log
// back (open + index, verify, a filtered query). Run after `npx tsc -b`:
//   node bench/audit-append/index.js [seconds per append round, default 2]
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { sealLine, recordHash } from '../../packages/core/dist/audit/chain.js'
import { verifyChain } from '../../packages/core/dist/audit/verify.js'
import { canonicalJson, sha256, ZERO_DIGEST } from '../../packages/core/dist/canonical.js'
import { FileAuditLog } from '../../packages/core/dist/store/file/audit-log.js'
import { benchEntry as entry } from '../lib/audit-entry.js'

const seconds = Number(process.argv[2] ?? 2)
const GW = 'tj.gw.bench'


const ms = start => Number(process.hrtime.bigint() - start) / 1e6
// CPU time holds better than wall time on a shared, busy machine
const cpuUs = start => { const d = process.cpuUsage(start); return d.user + d.system }
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc')
const fmt = n => Math.round(n).toLocaleString('en-US')

function benchSealing () {
  const n = 100_000
  const entries = Array.from({ length: n }, (_, i) => entry(i))
  const records = []
  let prevHash = ZERO_DIGEST
  const ts = new Date().toISOString()
  for (let i = 0; i < 5000; i++) sealLine(entries[i], { gatewayId: GW, seq: i + 1, ts, prevHash })
  let start = process.hrtime.bigint()
  let cpu = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const { record } = sealLine(entries[i], { gatewayId: GW, seq: i + 1, ts, prevHash })
    prevHash = record.hash
    records.push(record)
  }
  const sealUs = ms(start) * 1000 / n
  const sealCpu = cpuUs(cpu) / n
  // the same with the general RFC 8785 serialiser, for comparison
  cpu = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const { hash: _h, ...rest } = records[i]
    sha256(canonicalJson(rest))
  }
  const generalCpu = cpuUs(cpu) / n
  cpu = process.cpuUsage()
  for (let i = 0; i < n; i++) recordHash(records[i])
  const hashCpu = cpuUs(cpu) / n
  console.log(`seal (canonical JSON + sha256 + line): ${sealUs.toFixed(2)} µs/record wall, ${sealCpu.toFixed(2)} µs CPU`)
  console.log(`  recordHash (record canonicaliser + sha256): ${hashCpu.toFixed(2)} µs CPU; canonicalize package + sha256: ${generalCpu.toFixed(2)} µs CPU`)
  return records
}

async function benchVerifyObjects (records) {
  const start = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  const result = await verifyChain(records)
  const t = ms(start)
  console.log(`verifyChain over ${fmt(records.length)} record objects: ${fmt(records.length / t * 1000)} records/s wall, ${(cpuUs(cpu) / records.length).toFixed(2)} µs CPU/record (ok=${result.ok})`)
}

async function benchAppends (dir, concurrency) {
  const log = await FileAuditLog.open({ dir: join(dir, `c${concurrency}`), gatewayId: GW })
  const until = Date.now() + seconds * 1000
  let i = 0
  const start = process.hrtime.bigint()
  const worker = async () => {
    while (Date.now() < until) await log.append(entry(i++))
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const t = ms(start)
  await log.close()
  const { records, batches } = log.stats
  console.log(`file log, ${String(concurrency).padStart(3)} concurrent appenders: ${fmt(records / t * 1000).padStart(7)} records/s, ` +
    `${fmt(batches / t * 1000).padStart(5)} fsyncs/s, ${(records / batches).toFixed(1)} records/fsync`)
}

async function benchRead (dir, records) {
  const folder = join(dir, 'read', 'audit')
  await mkdir(folder, { recursive: true })
  // write the chain directly, as a long-running gateway would have
  const lines = []
  let prevHash = ZERO_DIGEST
  const base = Date.now() - records * 10
  for (let i = 0; i < records; i++) {
    const { record, line } = sealLine(entry(i), { gatewayId: GW, seq: i + 1, ts: new Date(base + i * 10).toISOString(), prevHash })
    prevHash = record.hash
    lines.push(line)
  }
  const text = lines.join('\n') + '\n'
  lines.length = 0
  await writeFile(join(folder, `${GW}.jsonl`), text)
  gc()
  // the index lives mostly in typed arrays: count array buffers with the heap
  const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers }
  const heapBefore = used()
  let start = process.hrtime.bigint()
  let cpu = process.cpuUsage()
  const log = await FileAuditLog.open({ dir: join(dir, 'read'), gatewayId: GW })
  // opening reads only the chain's tail; the query index is built by the first query
  await log.query({}, 1)
  const openMs = ms(start)
  const openCpu = cpuUs(cpu) / records
  gc()
  const indexMb = (used() - heapBefore) / 1e6
  start = process.hrtime.bigint()
  cpu = process.cpuUsage()
  const result = await log.verify()
  const verifyMs = ms(start)
  const verifyCpu = cpuUs(cpu) / records
  start = process.hrtime.bigint()
  const page = await log.query({ userId: 'officer-7', outcome: 'allowed' }, 1000)
  const queryMs = ms(start)
  start = process.hrtime.bigint()
  const page2 = await log.query({ consumer: 'tj.mca' }, 1000, undefined)
  const queryMs2 = ms(start)
  await log.close()
  console.log(`log of ${fmt(records)} records (${(text.length / 1e6).toFixed(0)} MB): open + first query (builds the index) ${openMs.toFixed(0)} ms (${fmt(records / openMs * 1000)} records/s wall, ${openCpu.toFixed(2)} µs CPU/record), index heap + array buffers ≈ ${indexMb.toFixed(0)} MB (${(indexMb * 1e6 / records).toFixed(0)} B a record)`)
  console.log(`  verify: ${fmt(result.checked / verifyMs * 1000)} records/s wall, ${verifyCpu.toFixed(2)} µs CPU/record (ok=${result.ok}, ${verifyMs.toFixed(0)} ms)`)
  console.log(`  query {userId, outcome} limit 1000: ${queryMs.toFixed(1)} ms (${page.records.length} records); query {consumer} limit 1000: ${queryMs2.toFixed(1)} ms (${page2.records.length})`)
}

const dir = await mkdtemp(join(tmpdir(), 'govex-bench-audit-'))
try {
  console.log(`node ${process.version}, ${seconds} s per append round, load average ${loadavg()[0].toFixed(1)}, temp dir ${dir}`)
  const records = benchSealing()
  await benchVerifyObjects(records)
  for (const c of [1, 64, 512]) await benchAppends(dir, c)
  await benchRead(dir, 200_000)
} finally {
  await rm(dir, { recursive: true, force: true })
}
