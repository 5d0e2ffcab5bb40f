// bench/gateway: the govex gateway's full pipeline against a bare Fastify +
// undici forwarder, same machine, same request bytes, same upstream, in one run.
// Not a test. Build first: `npx tsc -b`, then
//   node bench/gateway/run.js            (or: taskset -c 0 node bench/gateway/run.js)
// Env: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 50), BENCH_STORE=file,memory,
//      BENCH_AUTH=lean,fastify-jwt (govex variants to run), BENCH_LOG=warn|info.
// On a machine with ≥ 2 CPUs the load generator and the upstream run on CPU 0 and
// the forwarder under test on CPU 1 (taskset), as in notes/performance.md.
import { fork, execFileSync } from 'node:child_process'
import { availableParallelism, cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { exchangeBody as body } from '../lib/envelope.js'

const here = new URL('.', import.meta.url)
const duration = Number(process.env.BENCH_DURATION ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const variants = (process.env.BENCH_AUTH ?? 'lean').split(',')
const logLevel = process.env.BENCH_LOG ?? 'warn'
const storeKinds = (process.env.BENCH_STORE ?? 'file').split(',')
const path = '/v1/exchange/tj.psb:household-registration'

let pin = false
try {
  execFileSync('taskset', ['-c', '0', 'true'])
  pin = availableParallelism() >= 2
} catch {}
if (pin) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })

function start (script, args, cpu) {
  const file = fileURLToPath(new URL(script, here))
  const child = pin
    ? fork(file, args, { execPath: 'taskset', execArgv: ['-c', String(cpu), process.execPath], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : fork(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', code => reject(new Error(`${script} exited with ${code}`)))
    child.once('message', msg => resolve({ child, ...msg }))
  })
}

function ask (child, message, key) {
  return new Promise(resolve => {
    const on = msg => { if (key in msg) { child.off('message', on); resolve(msg[key]) } }
    child.on('message', on)
    child.send(message)
  })
}

function stop (child) {
  return new Promise(resolve => { child.removeAllListeners('exit'); child.once('exit', resolve); child.send('stop') })
}


async function load (url, authorization, seconds) {
  return await autocannon({
    url,
    connections,
    pipelining: 1,
    duration: seconds,
    requests: [{
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', authorization },
      // A new envelope id for every request: govex refuses a replayed id.
      setupRequest: request => ({ ...request, body: body() })
    }]
  })
}

async function measure (name, proxy, authorization) {
  await load(proxy.url, authorization, 3)
  await ask(proxy.child, 'cpu-mark', 'cpuMarked')
  const result = await load(proxy.url, authorization, duration)
  const usage = await ask(proxy.child, 'cpu-read', 'usage')
  const cpu = usage.user + usage.system
  const responses = result.requests.total
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuPerReq: cpu / Math.max(responses, 1),
    userPerReq: usage.user / Math.max(responses, 1),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts
  }
}

const upstream = await start('upstream.js', [], 0)
const upstreamUrl = `http://127.0.0.1:${upstream.port}`
// A real token, so (a) carries the same header bytes as (b).
const sample = await start('govex.js', [upstreamUrl, 'lean', 'silent'], 1)
const authorization = sample.authorization
await stop(sample.child)

const rows = []
const bare = await start('bare.js', [upstreamUrl], 1)
rows.push(await measure('(a) Fastify + undici Pool.dispatch (bare)', bare, authorization))
await stop(bare.child)
for (const storeKind of storeKinds) {
  for (const variant of variants) {
    const govex = await start('govex.js', [upstreamUrl, variant, logLevel, storeKind], 1)
    rows.push(await measure(`(b) govex, ${storeKind} store, auth ${variant}, log ${logLevel}`, govex, govex.authorization))
    await stop(govex.child)
  }
}
await stop(upstream.child)

console.log(`\nbench/gateway — ${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPUs, ${pin ? 'pinned (load+upstream CPU 0, proxy CPU 1)' : 'not pinned'}`)
console.log(`autocannon -c ${connections} -p 1 -d ${duration}; request body ${Buffer.byteLength(body())} B, authorization ${authorization.length} B, upstream answer ${upstream.bytes} B\n`)
console.log('| forwarder | req/s | p50 ms | p99 ms | CPU µs/req | of which user | non-2xx | errors |')
console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
for (const r of rows) console.log(`| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${Math.round(r.cpuPerReq)} | ${Math.round(r.userPerReq)} | ${r.non2xx} | ${r.errors} |`)
const base = rows[0]
for (const r of rows.slice(1)) {
  console.log(`\n${r.name}: ${(r.rps / base.rps).toFixed(2)}× the bare forwarder's req/s (goal ≥ 0.60), ${(r.cpuPerReq / base.cpuPerReq).toFixed(2)}× its CPU per request`)
}
