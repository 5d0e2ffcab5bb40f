// Where govex's CPU goes, next to a baseline, in one run: both processes are
// loaded the same way (autocannon -c 50, the same envelope bytes), profiled
// over the same number of answered requests (warm-up excluded), and the cost
// is printed in µs per request by place and by function, with the difference.
// Not a test, and not a throughput figure (profiling costs CPU): it says which
// steps make the gap that bench/exchange measures.
//   npx tsc -b && node bench/gateway/profile.js
// Two profilers:
//   v8 (default): a V8 CPU profile of the main thread, by package/file and JS
//     function. Its clock is the main thread's: while a thread-pool thread
//     (an fsync'd audit write) runs on the same pinned CPU, the main thread's
//     current frame is charged — read native frames (writeBuffer) with care.
//   perf (BENCH_PROFILER=perf, needs Linux perf): CPU samples of every thread
//     of the process at 4,999 Hz, by shared object (node's V8 and C++, JIT-compiled
//     JS, the kernel, libsodium, libc) and by symbol — what the CPU really spent.
// Env: BENCH_REQUESTS (default 60000), BENCH_BASELINE (bare-json | bare, default bare-json),
//      BENCH_STORE (memory | file, default file), BENCH_TOP (rows, default 40),
//      BENCH_SAVE=<path prefix> keeps each raw profile.
import { spawn, execFileSync } from 'node:child_process'
import { writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { LOAD_CPU, TARGET_CPU, pinSelf, pinning, startChild, ask, stopChild, cpuOfPid } from '../lib/common.js'
import { exchangeBody as body } from '../lib/envelope.js'
import { selfTimes } from '../lib/profile.js'

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 60_000)
const BASELINE = process.env.BENCH_BASELINE ?? 'bare-json'
const STORE = process.env.BENCH_STORE ?? 'file'
const TOP = Number(process.env.BENCH_TOP ?? 40)
const PROFILER = process.env.BENCH_PROFILER ?? 'v8'
const SAVE = process.env.BENCH_SAVE
const PERF_HZ = 4999
const PATH = '/v1/exchange/tj.psb:household-registration'

pinSelf()

async function load (url, authorization, amount) {
  const result = await autocannon({
    url,
    connections: 50,
    pipelining: 1,
    amount,
    requests: [{ method: 'POST', path: PATH, headers: { 'content-type': 'application/json', authorization }, setupRequest: request => ({ ...request, body: body() }) }]
  })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return result.requests.total
}

/** A V8 CPU profile of the child's main thread over `run()`, taken over IPC. */
async function v8Profile (child, label, run) {
  await ask(child, 'profile-start', 'profiling')
  const answered = await run()
  const profile = await ask(child, 'profile-stop', 'profile')
  if (SAVE !== undefined) writeFileSync(`${SAVE}-${label}.cpuprofile`, JSON.stringify(profile))
  return { answered, times: selfTimes(profile) }
}

/** perf samples of every thread of the child over `run()`, in µs by shared object and by symbol. */
async function perfProfile (child, label, run) {
  const file = SAVE !== undefined ? `${SAVE}-${label}.perf.data` : join(tmpdir(), `govex-profile-${process.pid}-${label}.perf.data`)
  const perf = spawn('perf', ['record', '-q', '-F', String(PERF_HZ), '-o', file, '-p', String(child.pid)], { stdio: 'ignore' })
  await new Promise(resolve => setTimeout(resolve, 300))
  const answered = await run()
  perf.kill('SIGINT')
  await new Promise(resolve => perf.once('exit', resolve))
  const report = execFileSync('perf', ['report', '-i', file, '--no-children', '--sort', 'dso,sym', '-n', '--stdio', '-g', 'none'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] })
  if (SAVE === undefined) rmSync(file, { force: true })
  const usPerSample = 1e6 / PERF_HZ
  const byFunction = new Map()
  const byPlace = new Map()
  let total = 0
  for (const line of report.split('\n')) {
    const m = /^\s*[\d.]+%\s+(\d+)\s+(.+?)\s+\[[.k]\]\s+(.*)$/.exec(line)
    if (m === null) continue
    const us = Number(m[1]) * usPerSample
    // JIT code is one shared object per thread id; name it once
    const place = m[2].startsWith('[JIT]') ? '[JIT-compiled JS]' : m[2]
    const symbol = m[3].trim().replace(/^JS:[*~^]?/, 'JS:').replace(/-\d+-turbofan$/, '')
    total += us
    byPlace.set(place, (byPlace.get(place) ?? 0) + us)
    byFunction.set(`${symbol} (${place})`, (byFunction.get(`${symbol} (${place})`) ?? 0) + us)
  }
  return { answered, times: { total, byFunction, byPlace } }
}

async function measure (label, script, args) {
  const execArgv = PROFILER === 'perf' ? ['--perf-basic-prof'] : []
  const started = await startChild(new URL(script, import.meta.url), args, TARGET_CPU, execArgv)
  const { child } = started
  const token = async () => started.authorization === undefined ? 'Bearer ' + 'x'.repeat(298) : await ask(child, 'token', 'token')
  await load(started.url, await token(), Math.min(REQUESTS, 20_000)) // warm-up: JIT, pools, caches
  const auth = await token()
  const cpu0 = cpuOfPid(child.pid)
  const run = async () => await load(started.url, auth, REQUESTS)
  const { answered, times } = PROFILER === 'perf' ? await perfProfile(child, label, run) : await v8Profile(child, label, run)
  const cpu = cpuOfPid(child.pid) - cpu0
  await stopChild(child)
  const what = PROFILER === 'perf' ? 'sampled in all threads' : 'sampled on the main thread'
  console.log(`${label}: ${answered} answered, ${(cpu / answered).toFixed(0)} CPU µs/req (profiling on), ${(times.total / answered).toFixed(0)} µs/req ${what}`)
  return { label, answered, times }
}

const perReq = (map, key, n) => (map.get(key) ?? 0) / n
const f1 = x => x.toFixed(1).padStart(7)

function table (title, base, govex, pick) {
  const keys = new Set([...pick(base.times).keys(), ...pick(govex.times).keys()])
  const rows = [...keys].map(k => {
    const b = perReq(pick(base.times), k, base.answered)
    const g = perReq(pick(govex.times), k, govex.answered)
    return { k, b, g, d: g - b }
  }).sort((x, y) => y.d - x.d).slice(0, TOP)
  console.log(`\n${title} — µs per request: ${BASELINE} | govex (${STORE} store) | difference`)
  for (const r of rows) console.log(`${f1(r.b)} ${f1(r.g)} ${f1(r.d)}  ${r.k.slice(0, 150)}`)
}

if (PROFILER === 'perf') {
  try { execFileSync('perf', ['--version'], { stdio: 'ignore' }) } catch {
    console.log('BENCH_PROFILER=perf needs Linux perf (apt-get install linux-perf); nothing measured')
    process.exit(1)
  }
}
const upstream = await startChild(new URL('upstream.js', import.meta.url), [], LOAD_CPU)
const upstreamUrl = `http://127.0.0.1:${upstream.port}`
try {
  console.log(pinning(), `· profiler ${PROFILER}`)
  const base = await measure(BASELINE, BASELINE + '.js', [upstreamUrl])
  const govex = await measure('govex', 'govex.js', [upstreamUrl, 'lean', 'warn', STORE])
  const d = govex.times.total / govex.answered - base.times.total / base.answered
  console.log(`\ngovex adds ${d.toFixed(1)} sampled µs per request`)
  table(PROFILER === 'perf' ? 'by shared object' : 'by package / file', base, govex, t => t.byPlace)
  table(PROFILER === 'perf' ? 'by symbol' : 'by function', base, govex, t => t.byFunction)
} finally {
  await stopChild(upstream.child)
}
