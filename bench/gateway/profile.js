// Where govex's CPU goes, next to a baseline, in one run: both processes are
// loaded the same way (autocannon -c 50, the same envelope bytes), a V8 CPU
// profile is taken over the same number of answered requests, and self time is
// printed in µs per request by package/file and by function, with the
// difference. Not a test, and not a throughput figure (the profiler costs CPU):
// it says which steps make the gap in bench/exchange.
//   npx tsc -b && node bench/gateway/profile.js
// Env: BENCH_REQUESTS (default 60000), BENCH_BASELINE (bare-json | bare, default bare-json),
//      BENCH_STORE (memory | file, default memory), BENCH_TOP (rows, default 40).
import autocannon from 'autocannon'
import { LOAD_CPU, TARGET_CPU, pinSelf, pinning, startChild, ask, stopChild, cpuOfPid } from '../lib/common.js'
import { exchangeBody as body } from '../lib/envelope.js'
import { selfTimes } from '../lib/profile.js'

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 60_000)
const BASELINE = process.env.BENCH_BASELINE ?? 'bare-json'
const STORE = process.env.BENCH_STORE ?? 'memory'
const TOP = Number(process.env.BENCH_TOP ?? 40)
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

async function measure (label, script, args) {
  const started = await startChild(new URL(script, import.meta.url), args, TARGET_CPU)
  const { child } = started
  const authorization = started.authorization ?? 'Bearer ' + 'x'.repeat(298)
  const token = async () => started.authorization === undefined ? authorization : await ask(child, 'token', 'token')
  await load(started.url, await token(), Math.min(REQUESTS, 20_000)) // warm-up: JIT, pools, caches
  const auth = await token()
  await ask(child, 'profile-start', 'profiling')
  const cpu0 = cpuOfPid(child.pid)
  const answered = await load(started.url, auth, REQUESTS)
  const cpu = cpuOfPid(child.pid) - cpu0
  const profile = await ask(child, 'profile-stop', 'profile')
  await stopChild(child)
  const times = selfTimes(profile)
  console.log(`${label}: ${answered} answered, ${(cpu / answered).toFixed(0)} CPU µs/req (profiling on), ${(times.total / answered).toFixed(0)} µs/req sampled on the main thread`)
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
  for (const r of rows) console.log(`${f1(r.b)} ${f1(r.g)} ${f1(r.d)}  ${r.k}`)
}

const upstream = await startChild(new URL('upstream.js', import.meta.url), [], LOAD_CPU)
const upstreamUrl = `http://127.0.0.1:${upstream.port}`
try {
  console.log(pinning())
  const base = await measure(BASELINE, BASELINE + '.js', [upstreamUrl])
  const govex = await measure('govex', 'govex.js', [upstreamUrl, 'lean', 'warn', STORE])
  const d = govex.times.total / govex.answered - base.times.total / base.answered
  console.log(`\nmain-thread time govex adds: ${d.toFixed(1)} µs/req`)
  table('by package / file', base, govex, t => t.byPlace)
  table('by function', base, govex, t => t.byFunction)
} finally {
  await stopChild(upstream.child)
}
