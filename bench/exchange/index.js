// Exchange throughput and latency: the same upstream, the same request bytes,
// interleaved rounds, the load generator pinned apart from the process under test.
//   (a) direct call to the upstream          (b) bare Fastify + undici forwarder
//   (c) @fastify/http-proxy                  (d) nginx proxy_pass (when installable)
//   (e) govex full pipeline, file store      (f) govex full pipeline, Redis store
// and a baseline that splits govex's cost (not in the goals):
//   (g) a Fastify JSON route + undici: parse, schema, re-serialise, parse the answer
//   (i) the protocol's floor: (g) plus every step PROTOCOL.md requires of any
//       implementation, each done the leanest way (bench/gateway/floor.js)
// (bench/gateway/profile.js splits the rest, step by step, under perf.)
// Two measures per target: the most it answers (autocannon -c 50, closed loop),
// and latency at a fixed rate of half the direct maximum (autocannon overallRate).
// "CPU µs/req" is the target process's utime+stime (/proc) over its responses.
// Run alone after `npx tsc -b`: node bench/exchange/index.js
// Env: BENCH_SMOKE=1, BENCH_DURATION (s, default 8), BENCH_ROUNDS (default 3),
//      BENCH_CONNECTIONS (50), BENCH_TARGETS (comma list of ids), BENCH_NGINX_INSTALL=0,
//      BENCH_PROFILE=1 (govex-file writes a --cpu-prof into bench/results/profiles).
import { spawn, execFileSync } from 'node:child_process'
import { mkdtemp, writeFile, rm, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import { SMOKE, PIN, LOAD_CPU, TARGET_CPU, pinSelf, pinning, startChild, ask, stopChild, cpuOfPid, freePort, median, report, fmt } from '../lib/common.js'
import { exchangeBody as body } from '../lib/envelope.js'

const gatewayDir = new URL('../gateway/', import.meta.url)
const DURATION = Number(process.env.BENCH_DURATION ?? 8)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (SMOKE ? 1 : 3))
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const SMOKE_REQUESTS = 300
const PATH = '/v1/exchange/tj.psb:household-registration'
const only = process.env.BENCH_TARGETS?.split(',')

pinSelf()


/** One autocannon run; `rate` = requests/s for the whole run (fixed-rate mode) or undefined (as fast as it answers). */
async function load (target, authorization, seconds, rate) {
  const options = {
    url: target.url,
    connections: CONNECTIONS,
    pipelining: 1,
    requests: [{
      method: 'POST',
      path: PATH,
      headers: { 'content-type': 'application/json', authorization },
      // a new envelope id for every request: govex refuses a replayed id
      setupRequest: request => ({ ...request, body: body() })
    }]
  }
  if (SMOKE) options.amount = SMOKE_REQUESTS
  else options.duration = seconds
  if (rate !== undefined) options.overallRate = Math.max(1, Math.round(rate))
  const cpu0 = cpuOfPid(target.pid)
  const result = await autocannon(options)
  const cpu = cpuOfPid(target.pid) - cpu0
  const responses = result.requests.total
  return {
    rps: SMOKE ? responses / (result.duration || 1) : result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuPerReq: cpu / Math.max(responses, 1),
    responses,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts
  }
}

// ---- targets -------------------------------------------------------------

async function nodeTarget (id, label, script, args) {
  const started = await startChild(new URL(script, gatewayDir), args, TARGET_CPU)
  return { id, label, url: started.url ?? `http://127.0.0.1:${started.port}`, pid: started.child.pid, child: started.child, started, stop: () => stopChild(started.child) }
}

function nginxBinary () {
  for (const bin of ['nginx', '/usr/sbin/nginx']) {
    try { execFileSync(bin, ['-v'], { stdio: 'ignore' }); return bin } catch {}
  }
  // Installed for the bench only, never by tests; skipped in smoke mode and when not root.
  if (SMOKE || process.env.BENCH_NGINX_INSTALL === '0' || process.getuid?.() !== 0) return null
  try {
    console.log('nginx not found: apt-get install -y nginx (bench only)')
    execFileSync('apt-get', ['install', '-y', '-q', 'nginx-light'], { stdio: 'ignore', timeout: 240_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  } catch {
    try { execFileSync('apt-get', ['install', '-y', '-q', 'nginx'], { stdio: 'ignore', timeout: 240_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }) } catch { return null }
  }
  try { execFileSync('/usr/sbin/nginx', ['-v'], { stdio: 'ignore' }); return '/usr/sbin/nginx' } catch { return null }
}

async function nginxTarget (upstreamPort) {
  const bin = nginxBinary()
  if (bin === null) return null
  const dir = await mkdtemp(join(tmpdir(), 'govex-bench-nginx-'))
  const port = await freePort()
  await writeFile(join(dir, 'nginx.conf'), `
daemon off; master_process off; worker_processes 1;
error_log ${dir}/error.log warn; pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream provider { server 127.0.0.1:${upstreamPort}; keepalive 64; keepalive_timeout 3s; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://provider/household; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`)
  const args = ['-p', dir, '-c', join(dir, 'nginx.conf')]
  const child = PIN ? spawn('taskset', ['-c', String(TARGET_CPU), bin, ...args], { stdio: 'ignore' }) : spawn(bin, args, { stdio: 'ignore' })
  // wait until it listens
  for (let i = 0; i < 50; i++) {
    await new Promise(resolve => setTimeout(resolve, 100))
    try { await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' }); break } catch {}
  }
  return {
    id: 'nginx',
    label: '(d) nginx proxy_pass, 1 worker, upstream keepalive',
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      await new Promise(resolve => { child.once('exit', resolve); child.kill('SIGQUIT') })
      await rm(dir, { recursive: true, force: true })
    }
  }
}

async function redisAnswers () {
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null })
  redis.on('error', () => {})
  try { await redis.connect(); await redis.ping(); return true } catch { return false } finally { redis.disconnect() }
}

// ---- run -----------------------------------------------------------------

const upstream = await startChild(new URL('upstream.js', gatewayDir), [], LOAD_CPU)
const upstreamUrl = `http://127.0.0.1:${upstream.port}`
const targets = []
const want = id => only === undefined || only.includes(id)
try {
  if (want('direct')) {
    // a second instance of the same upstream, on the CPU a proxy would have
    const t = await nodeTarget('direct', '(a) direct call to the upstream (node:http)', 'upstream.js', [])
    targets.push(t)
  }
  if (want('bare')) targets.push(await nodeTarget('bare', '(b) Fastify 5 + undici 7 Pool.dispatch (bare forwarder)', 'bare.js', [upstreamUrl]))
  if (want('bare-json')) targets.push(await nodeTarget('bare-json', '(g) Fastify JSON route + undici: envelope parsed and schema-checked, re-serialised, answer parsed (no govex steps)', 'bare-json.js', [upstreamUrl]))
  if (want('floor')) targets.push({ tokens: true, ...await nodeTarget('floor', '(i) the protocol\'s floor: (g) + cached token check, Ed25519-signed provider JWT with the body digest, answer minimised and digested, audit record hashed and made durable (no govex code)', 'floor.js', [upstreamUrl]) })
  if (want('http-proxy')) targets.push(await nodeTarget('http-proxy', '(c) @fastify/http-proxy 11', 'http-proxy.js', [upstreamUrl]))
  if (want('nginx')) {
    const t = await nginxTarget(upstream.port)
    if (t !== null) targets.push(t)
    else console.log('nginx: not available, skipped')
  }
  const profile = process.env.BENCH_PROFILE === '1'
  if (want('govex-file')) {
    const execArgv = profile ? ['--cpu-prof', '--cpu-prof-dir=' + new URL('../results/profiles/', import.meta.pathname ? import.meta.url : import.meta.url).pathname] : []
    if (profile) await mkdir(execArgv[1].slice('--cpu-prof-dir='.length), { recursive: true })
    const started = await startChild(new URL('govex.js', gatewayDir), [upstreamUrl, 'lean', 'warn', 'file'], TARGET_CPU, execArgv)
    targets.push({ id: 'govex-file', label: '(e) govex full pipeline, file store', url: started.url, pid: started.child.pid, child: started.child, govex: true, stop: () => stopChild(started.child) })
  }
  if (want('govex-redis')) {
    if (await redisAnswers()) {
      const started = await startChild(new URL('govex.js', gatewayDir), [upstreamUrl, 'lean', 'warn', 'redis'], TARGET_CPU)
      targets.push({ id: 'govex-redis', label: '(f) govex full pipeline, Redis store', url: started.url, pid: started.child.pid, child: started.child, govex: true, stop: () => stopChild(started.child) })
    } else console.log('govex on Redis: no Redis at 127.0.0.1:6379, skipped')
  }

  // A govex token carries the same header bytes to every target; each govex checks its own.
  // (i) issues tokens of the same shape and length when no govex runs
  const anyGovex = targets.find(t => t.govex) ?? targets.find(t => t.tokens)
  async function tokenFor (target) {
    if (target.govex || target.tokens) return await ask(target.child, 'token', 'token')
    if (anyGovex !== undefined) return await ask(anyGovex.child, 'token', 'token')
    return 'Bearer ' + 'x'.repeat(298)
  }

  const rows = new Map(targets.map(t => [t.id, { id: t.id, label: t.label, rounds: [], fixed: null }]))
  for (const t of targets) await load(t, await tokenFor(t), SMOKE ? 1 : 2) // warm-up: JIT, pools, caches
  for (let round = 0; round < ROUNDS; round++) {
    // rotate the order so no target always runs first or last
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(k + round) % targets.length]
      const r = await load(t, await tokenFor(t), DURATION)
      rows.get(t.id).rounds.push(r)
      console.log(`round ${round + 1} ${t.id.padEnd(11)} ${fmt(r.rps).padStart(7)} req/s  p99 ${r.p99} ms  ${r.cpuPerReq.toFixed(0)} CPU µs/req  non2xx ${r.non2xx} errors ${r.errors}`)
    }
  }
  const maxOf = id => median(rows.get(id)?.rounds.map(r => r.rps) ?? [])
  const directMax = rows.has('direct') ? maxOf('direct') : maxOf(targets[0].id)
  const rate = directMax / 2
  for (const t of targets) {
    const r = await load(t, await tokenFor(t), DURATION, rate)
    rows.get(t.id).fixed = r
    console.log(`fixed ${fmt(rate)}/s ${t.id.padEnd(11)} p50 ${r.p50} ms  p99 ${r.p99} ms  ${r.cpuPerReq.toFixed(0)} CPU µs/req  (${fmt(r.rps)} req/s answered)`)
  }

  const summary = []
  for (const row of rows.values()) {
    summary.push({
      id: row.id,
      label: row.label,
      rps: median(row.rounds.map(r => r.rps)),
      rpsRounds: row.rounds.map(r => Math.round(r.rps)),
      cpuPerReq: median(row.rounds.map(r => r.cpuPerReq)),
      fixedRate: Math.round(rate),
      fixedP50: row.fixed.p50,
      fixedP99: row.fixed.p99,
      fixedCpuPerReq: row.fixed.cpuPerReq,
      non2xx: row.rounds.reduce((n, r) => n + r.non2xx, 0) + row.fixed.non2xx,
      errors: row.rounds.reduce((n, r) => n + r.errors, 0) + row.fixed.errors
    })
  }
  const bare = summary.find(s => s.id === 'bare')
  const direct = summary.find(s => s.id === 'direct')
  for (const s of summary) {
    s.vsBare = bare === undefined ? null : s.rps / bare.rps
    s.vsDirect = direct === undefined ? null : s.rps / direct.rps
    s.p99OverBare = bare === undefined ? null : s.fixedP99 - bare.fixedP99
  }
  console.log(`\n${pinning()}; autocannon -c ${CONNECTIONS} -p 1, ${SMOKE ? SMOKE_REQUESTS + ' requests' : DURATION + ' s'} per run, ${ROUNDS} interleaved rounds, fixed rate ${fmt(rate)} req/s`)
  console.log('| target | req/s | × bare | × direct | CPU µs/req | p50 ms @fixed | p99 ms @fixed |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const s of summary) console.log(`| ${s.label} | ${fmt(s.rps)} | ${s.vsBare?.toFixed(2) ?? '–'} | ${s.vsDirect?.toFixed(2) ?? '–'} | ${s.cpuPerReq.toFixed(0)} | ${s.fixedP50} | ${s.fixedP99} |`)
  report('exchange', {
    method: { connections: CONNECTIONS, durationS: SMOKE ? null : DURATION, requestsPerRun: SMOKE ? SMOKE_REQUESTS : null, rounds: ROUNDS, fixedRate: Math.round(rate), requestBodyBytes: Buffer.byteLength(body()), upstreamAnswerBytes: upstream.bytes },
    targets: summary
  })
  const failed = summary.filter(s => s.non2xx > 0 || s.errors > 0)
  if (failed.length > 0) {
    console.error(`non-2xx answers or errors from: ${failed.map(s => s.id).join(', ')}`)
    process.exitCode = 1
  }
} finally {
  for (const t of targets) await t.stop().catch(() => {})
  await stopChild(upstream.child)
}
