// Instructions per exchange, counted by valgrind's callgrind: a figure that
// does not move with the machine's load or speed (docs/performance.md: this
// VM's CPU µs per request varied 2–4× between sessions for the same code, and
// the ratios with it). Each target runs under callgrind; after a warm-up its
// counters are zeroed (`callgrind_control -z`), a fixed number of exchanges is
// sent, and the counters are dumped (`callgrind_control -d`): the dump's total
// over the exchanges answered 200 is the target's user-space instructions per
// exchange. The kernel's work (sockets, the audit log's writes) is not counted;
// `bench/exchange` measures it in CPU time.
//
//   node bench/gateway/instructions.js           # ~15 min: bare, bare-json, floor, govex-file
//   BENCH_TARGETS=floor,govex-file BENCH_REQUESTS=2000 node bench/gateway/instructions.js
//
// Needs valgrind (every machine of this kind has it). Each target warms up
// uninstrumented (BENCH_WARMUP exchanges, default 5,000: V8's tiers settle,
// and its background compiler threads, which callgrind counts too, go quiet),
// then is measured in three windows of BENCH_REQUESTS (default 1,000); the
// median is reported, all three are shown.
import { fork, execFileSync } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { startChild, ask, stopChild, fmt } from '../lib/common.js'
import { exchangeBody } from '../lib/envelope.js'

const { Pool } = createRequire(new URL('../../packages/gateway/package.json', import.meta.url))('undici')
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000)
const WINDOWS = 3
const CONCURRENCY = 8
const PATH = '/v1/exchange/tj.psb:household-registration'
const only = process.env.BENCH_TARGETS?.split(',')
const here = new URL('./', import.meta.url)

const TARGETS = [
  { id: 'bare', label: '(b) Fastify 5 + undici 7 Pool.dispatch (bare forwarder)', script: 'bare.js', args: url => [url] },
  { id: 'bare-json', label: '(g) Fastify JSON route + undici (no govex steps)', script: 'bare-json.js', args: url => [url] },
  { id: 'floor', label: '(i) the protocol\'s floor (no govex code)', script: 'floor.js', args: url => [url], tokens: true },
  { id: 'govex-file', label: '(e) govex full pipeline, file store', script: 'govex.js', args: url => [url, 'lean', 'warn', 'file'], tokens: true }
]

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
} catch {
  console.log('valgrind not found: apt-get install -y valgrind')
  process.exit(1)
}

const upstream = await startChild(new URL('upstream.js', here))
const upstreamUrl = `http://127.0.0.1:${upstream.port}`
const out = await mkdtemp(join(tmpdir(), 'govex-bench-callgrind-'))
const rows = []
let token
try {
  for (const target of TARGETS) {
    if (only !== undefined && !only.includes(target.id)) continue
    rows.push({ ...target, ...await measure(target) })
  }
} finally {
  await stopChild(upstream.child)
  await rm(out, { recursive: true, force: true })
}

const base = rows.find(r => r.id === 'bare')
const floor = rows.find(r => r.id === 'floor')
console.log(`\ncallgrind, user-space instructions per exchange (median of three windows of ${fmt(REQUESTS)}, after ${fmt(WARMUP)} uninstrumented and 500 instrumented, ${CONCURRENCY} in flight)`)
console.log('| target | instructions/exchange | windows | × bare | × floor |')
console.log('|---|---:|---|---:|---:|')
for (const r of rows) {
  const ratio = (other) => other === undefined ? '–' : (other.perRequest / r.perRequest).toFixed(2)
  console.log(`| ${r.label} | ${fmt(r.perRequest)} | ${r.windows.map(fmt).join(', ')} | ${ratio(base)} | ${ratio(floor)} |`)
}

async function measure (target) {
  const file = fileURLToPath(new URL(target.script, here))
  const child = fork(file, target.args(upstreamUrl), {
    execPath: 'valgrind',
    execArgv: ['--tool=callgrind', '--quiet', '--instr-atstart=no', `--callgrind-out-file=${join(out, target.id)}.%p`, process.execPath],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const started = await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', code => reject(new Error(`${target.script} under valgrind exited with ${code}`)))
    child.once('message', resolve)
  })
  child.removeAllListeners('exit')
  const url = started.url ?? `http://127.0.0.1:${started.port}`
  // tokens live 300 s, less than a run under callgrind: a fresh one for every step
  const authorization = async () => {
    if (target.tokens) token = await ask(child, 'token', 'token')
    return token ?? 'Bearer ' + 'x'.repeat(298)
  }
  const pool = new Pool(url, { connections: CONCURRENCY })
  try {
    // warm-up without instrumentation (several times faster): JIT tiers, pools, caches
    await send(pool, await authorization(), WARMUP)
    callgrind(['-i', 'on', String(child.pid)])
    await send(pool, await authorization(), Math.min(REQUESTS, 500)) // the instrumented code's first runs
    const windows = []
    for (let w = 0; w < WINDOWS; w++) {
      const header = await authorization()
      callgrind(['-z', String(child.pid)])
      const answered = await send(pool, header, REQUESTS)
      callgrind(['-d', `window${w}`, String(child.pid)])
      windows.push(await lastDumpTotal(target.id) / answered)
    }
    console.log(`${target.id}: ${windows.map(fmt).join(', ')} instructions/exchange`)
    return { windows, perRequest: [...windows].sort((a, b) => a - b)[1] }
  } finally {
    await pool.close()
    await stopChild(child)
  }
}

function callgrind (args) {
  execFileSync('callgrind_control', args, { stdio: 'ignore' })
}

/** The `totals:` of the newest dump of `id` (callgrind numbers dumps `<file>.<pid>.<n>`). */
async function lastDumpTotal (id) {
  const dumps = (await readdir(out)).filter(f => f.startsWith(id + '.') && /\.\d+\.\d+$/.test(f))
  dumps.sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
  const text = await readFile(join(out, dumps.at(-1)), 'utf8')
  const match = /^totals:\s+(\d+)/m.exec(text) ?? /^summary:\s+(\d+)/m.exec(text)
  if (match === null) throw new Error(`no totals in ${dumps.at(-1)}`)
  return Number(match[1])
}

/** Sends `n` exchanges, `CONCURRENCY` at a time; resolves with how many were answered 200. */
async function send (pool, authorization, n) {
  let next = 0
  let ok = 0
  let failed = 0
  async function worker () {
    while (next < n) {
      next++
      const { statusCode, body } = await pool.request({ path: PATH, method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: exchangeBody() })
      await body.dump()
      // under callgrind a long pause (instrumenting, dumping) can outlast a
      // keep-alive socket and cost one exchange a 502: counted out, not fatal
      if (statusCode === 200) ok++
      else failed++
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  if (failed > 0) console.log(`  (${failed} of ${n} not answered 200, left out)`)
  if (ok === 0) throw new Error('no exchange was answered 200')
  return ok
}
