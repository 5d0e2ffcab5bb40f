// Scale: a sharing plan of 100,000 grants over 10,000 resources taken through
// the gateway's API (create → approve → activate, file store) — wall time, the
// longest event-loop stall and memory at each step — then the gateway's RSS over
// a long exchange run (a child process under closed-loop load), reported as a
// slope per 100,000 exchanges over the second half of the run (no growth = ~0).
// The replay guard must hold every envelope id for its window, so the run uses a
// window far shorter than the run (30 s against ~2 min): once it has turned over,
// anything that still grows is a leak. What a 24 h window holds is bench/micro's
// bytes per id times the ids of a day.
// Run alone after `npx tsc -b`: node bench/scale/index.js
// Env: BENCH_SMOKE=1, BENCH_GRANTS (100000), BENCH_RSS_EXCHANGES (1000000; 0 skips
// the RSS run), BENCH_REPLAY_WINDOW_S (30), BENCH_PROFILE=1 (a CPU profile of each plan step, in-process, to
// bench/results/profiles/scale-<step>.cpuprofile; read with bench/lib/profile-summary.js),
// BENCH_PLANS=2 (a second version of the plan taken through the same steps, whose
// activation supersedes the first), BENCH_STORE=redis[=url] (the plan steps on Redis,
// default redis://127.0.0.1:6379, under a random key prefix deleted afterwards).
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import autocannon from 'autocannon'
import { generateKeyPair, signJwt, signApproval } from '../../packages/core/dist/index.js'
import { buildGateway, loadConfig } from '../../packages/gateway/dist/index.js'
import { SMOKE, LOAD_CPU, TARGET_CPU, pinSelf, startChild, ask, stopChild, rssOfPid, cpuOfPid, report, fmt, dropRedisKeys } from '../lib/common.js'

const GRANTS = Number(process.env.BENCH_GRANTS ?? (SMOKE ? 2000 : 100_000))
const AGENCIES = SMOKE ? 10 : 100
const RESOURCES_PER_AGENCY = SMOKE ? 20 : 100 // 10,000 resources
const CONSUMERS = Math.max(1, Math.ceil(GRANTS / 100))
const RSS_EXCHANGES = Number(process.env.BENCH_RSS_EXCHANGES ?? (SMOKE ? 2000 : 1_000_000))
const REPLAY_WINDOW_S = Number(process.env.BENCH_REPLAY_WINDOW_S ?? 30)
const PLANS = Number(process.env.BENCH_PLANS ?? 1)
const STORE = process.env.BENCH_STORE ?? 'file'
const REDIS_URL = STORE.startsWith('redis=') ? STORE.slice('redis='.length) : 'redis://127.0.0.1:6379'
const REDIS_PREFIX = `govex-bench-scale-${randomUUID().slice(0, 8)}:`
const PROFILE = process.env.BENCH_PROFILE === '1'
const PROFILES = new URL('../results/profiles/', import.meta.url)

/** Runs `fn` under the V8 CPU profiler and writes scale-<name>.cpuprofile. */
async function profiled (name, fn) {
  if (!PROFILE) return await fn()
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 200 })
  await session.post('Profiler.start')
  try {
    return await fn()
  } finally {
    const { profile } = await session.post('Profiler.stop')
    session.disconnect()
    await mkdir(PROFILES, { recursive: true })
    await writeFile(new URL(`scale-${name}.cpuprofile`, PROFILES), JSON.stringify(profile))
  }
}

async function activation () {
  const dir = await mkdtemp(join(tmpdir(), 'govex-bench-scale-'))
  try {
    const gatewayId = 'tj.gw.bench'
    const gw = generateKeyPair('gw-k1')
    const op = generateKeyPair('op-k1')
    const gov = generateKeyPair('gov-k1')
    const agencyKey = generateKeyPair('agency-k1').publicJwk
    const members = [
      { id: gatewayId, name: 'Bench gateway', roles: ['gateway'], keys: [gw.publicJwk] },
      { id: 'tj.it-office', name: 'Operator', roles: ['operator'], keys: [op.publicJwk] },
      { id: 'tj.gov', name: 'Approver', roles: ['approver'], keys: [gov.publicJwk] }
    ]
    const items = Array.from({ length: 20 }, (_, i) => ({ name: `item${i}`, type: 'string' }))
    await mkdir(join(dir, 'seed'))
    const directoryFiles = []
    for (let a = 0; a < AGENCIES; a++) {
      const agency = `tj.provider-${a}`
      members.push({ id: agency, name: `Provider ${a}`, roles: ['agency'], keys: [agencyKey] })
      const resources = Array.from({ length: RESOURCES_PER_AGENCY }, (_, r) => ({
        id: `${agency}:resource-${r}`, name: `Resource ${r}`, description: 'bench', classification: 'basic:population',
        securityLevel: 'internal', sharing: { type: 'conditional', conditions: 'bench' }, items,
        query: [{ name: 'idNumber', type: 'string', required: true }], endpoint: { url: `http://127.0.0.1:1/${a}/${r}` }
      }))
      const file = `./seed/dir-${a}.json`
      await writeFile(join(dir, file), JSON.stringify({ agency, version: 1, resources }))
      directoryFiles.push(file)
    }
    for (let c = 0; c < CONSUMERS; c++) members.push({ id: `tj.consumer-${c}`, name: `Consumer ${c}`, roles: ['agency'], keys: [agencyKey] })
    await writeFile(join(dir, 'seed', 'gw.key.json'), JSON.stringify(gw.privateJwk))
    await writeFile(join(dir, 'seed', 'members.json'), JSON.stringify(members))
    await writeFile(join(dir, 'govex.config.json'), JSON.stringify({
      gatewayId, zone: 'extranet', port: 0, keyFile: './seed/gw.key.json',
      store: STORE.startsWith('redis') ? { kind: 'redis', url: REDIS_URL, prefix: REDIS_PREFIX } : { kind: 'file', dir: './data' },
      bootstrap: { members: './seed/members.json', directories: directoryFiles }, log: { level: 'warn' },
      limits: { bodyBytes: 256 * 1024 * 1024 }
    }))
    const config = await loadConfig(join(dir, 'govex.config.json'), {})
    const app = await buildGateway({ config, logger: false })
    const grants = []
    for (let g = 0; g < GRANTS; g++) {
      const a = g % AGENCIES
      const r = Math.floor(g / AGENCIES) % RESOURCES_PER_AGENCY
      const start = g % 10
      grants.push({
        id: `g-${g}`, consumer: `tj.consumer-${Math.floor(g / 100)}`, resource: `tj.provider-${a}:resource-${r}`,
        fields: items.slice(start, start + 6).map(i => i.name), purposes: [`purpose-${g % 5}`, 'statistics'],
        conditions: { requireCaseRef: g % 2 === 0, requireUserId: true }, quota: { perMinute: 600, perDay: 50_000 }
      })
    }
    const payloadOf = version => JSON.stringify({ id: 'bench-plan', version, title: 'Bench plan', validFrom: '2020-01-01T00:00:00Z', validUntil: '2099-12-31T23:59:59Z', grants })
    const payload = payloadOf(1)
    const token = (key, iss) => {
      const iat = Math.floor(Date.now() / 1000)
      return 'Bearer ' + signJwt(key.privateJwk, { iss, aud: gatewayId, iat, exp: iat + 300, jti: randomUUID() })
    }
    const steps = {}
    async function step (name, request, expected) {
      globalThis.gc?.()
      const stall = monitorEventLoopDelay({ resolution: 10 })
      stall.enable()
      // The histogram records from its second tick on: a stall that began before it would go unseen.
      await new Promise(resolve => setTimeout(resolve, 25))
      const cpu = process.cpuUsage()
      const t0 = performance.now()
      // The answer (the whole state, ~28 MB) is read as a stream, as a client across a socket
      // would: inject's default would also decode it into one string inside the step.
      const { res, chunks } = await profiled(name, async () => {
        const res = await app.inject({ ...request, payloadAsStream: true })
        const chunks = []
        for await (const chunk of res.stream()) chunks.push(chunk)
        return { res, chunks }
      })
      const ms = performance.now() - t0
      const used = process.cpuUsage(cpu)
      stall.disable()
      const body = Buffer.concat(chunks).toString('utf8')
      if (res.statusCode !== expected) throw new Error(`${name}: ${res.statusCode} ${body.slice(0, 300)}`)
      const mem = process.memoryUsage()
      steps[name] = { ms, cpuMs: (used.user + used.system) / 1000, maxStallMs: stall.max / 1e6, rssMb: mem.rss / 1048576, heapMb: mem.heapUsed / 1048576 }
      console.log(`${name.padEnd(9)} ${ms.toFixed(0).padStart(6)} ms wall, ${steps[name].cpuMs.toFixed(0)} ms CPU, longest event-loop stall ${steps[name].maxStallMs.toFixed(0)} ms, RSS ${steps[name].rssMb.toFixed(0)} MB, heap ${steps[name].heapMb.toFixed(0)} MB`)
      return body
    }
    console.log(`plan of ${fmt(GRANTS)} grants (${(payload.length / 1e6).toFixed(1)} MB), ${fmt(AGENCIES * RESOURCES_PER_AGENCY)} resources, ${fmt(members.length)} members, ${STORE} store`)
    for (let version = 1; version <= PLANS; version++) {
      const suffix = version === 1 ? '' : String(version)
      const created = await step('create' + suffix, { method: 'POST', url: '/v1/plans', headers: { authorization: token(op, 'tj.it-office'), 'content-type': 'application/json' }, payload: version === 1 ? payload : payloadOf(version) }, 201)
      const digest = JSON.parse(created).digest
      await step('approve' + suffix, { method: 'POST', url: '/v1/plans/bench-plan/approve', headers: { authorization: token(gov, 'tj.gov') }, payload: { signature: signApproval(digest, gov.privateJwk) } }, 200)
      await step('activate' + suffix, { method: 'POST', url: '/v1/plans/bench-plan/activate', headers: { authorization: token(op, 'tj.it-office') } }, 200)
    }
    await app.close()
    return { grants: GRANTS, resources: AGENCIES * RESOURCES_PER_AGENCY, planBytes: payload.length, steps }
  } finally {
    await rm(dir, { recursive: true, force: true })
    if (STORE.startsWith('redis')) await dropRedisKeys(REDIS_URL, REDIS_PREFIX)
  }
}

/** bytes kept per exchange between the first and the last of `probes` */
function retainedSlope (probes) {
  if (probes.length < 2) return NaN
  const first = probes[0]
  const last = probes.at(-1)
  return ((last.mb - first.mb) * 1048576) / Math.max(1, last.exchanges - first.exchanges)
}

async function rssRun () {
  pinSelf()
  const upstream = await startChild(new URL('../gateway/upstream.js', import.meta.url), [], LOAD_CPU)
  const govex = await startChild(new URL('../gateway/govex.js', import.meta.url), [`http://127.0.0.1:${upstream.port}`, 'lean', 'warn', 'file', String(REPLAY_WINDOW_S)], TARGET_CPU, ['--expose-gc'])
  const pid = govex.child.pid
  const samples = []
  // heap + array buffers after full collections, at every chunk: RSS alone mixes in V8's heap sizing
  const retained = []
  const probe = async () => {
    const r = await ask(govex.child, 'retained', 'retained')
    retained.push({ exchanges: done, mb: r.heapMb + r.arrayBuffersMb })
  }
  let done = 0
  const t0 = performance.now()
  const cpu0 = cpuOfPid(pid)
  const timer = setInterval(() => samples.push({ exchanges: done, s: (performance.now() - t0) / 1000, rssMb: rssOfPid(pid) }), SMOKE ? 100 : 1000)
  try {
    // tokens live 300 s: a fresh one for every chunk
    while (done < RSS_EXCHANGES) {
      await probe()
      const amount = Math.min(SMOKE ? 1000 : 50_000, RSS_EXCHANGES - done)
      const authorization = await ask(govex.child, 'token', 'token')
      const instance = autocannon({
        url: govex.url, connections: 50, pipelining: 1, amount,
        requests: [{ method: 'POST', path: '/v1/exchange/tj.psb:household-registration', headers: { 'content-type': 'application/json', authorization },
          setupRequest: r => ({ ...r, body: JSON.stringify({ id: randomUUID(), purpose: 'minimum-living-guarantee-review', userId: 'officer-4711', caseRef: 'MCA-2026-000123', fields: ['name', 'householdAddress'], query: { idNumber: '120101199001011234' } }) }) }]
      })
      const base = done
      instance.on('response', () => { done++ })
      const result = await instance
      done = base + result.requests.total
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`RSS run: ${result.non2xx} non-2xx, ${result.errors} errors`)
    }
  } finally {
    clearInterval(timer)
    samples.push({ exchanges: done, s: (performance.now() - t0) / 1000, rssMb: rssOfPid(pid) })
  }
  const cpuPerReq = (cpuOfPid(pid) - cpu0) / done
  await probe()
  await stopChild(govex.child)
  await stopChild(upstream.child)
  // least-squares slope of RSS over exchanges, second half of the run (after warm-up)
  const half = samples.filter(s => s.exchanges >= done / 2)
  const n = half.length
  const mx = half.reduce((a, s) => a + s.exchanges, 0) / n
  const my = half.reduce((a, s) => a + s.rssMb, 0) / n
  const slope = half.reduce((a, s) => a + (s.exchanges - mx) * (s.rssMb - my), 0) / Math.max(1e-9, half.reduce((a, s) => a + (s.exchanges - mx) ** 2, 0))
  const out = {
    exchanges: done,
    replayWindowS: REPLAY_WINDOW_S,
    seconds: samples.at(-1).s,
    rssStartMb: samples[0]?.rssMb,
    rssMidMb: half[0]?.rssMb,
    rssEndMb: samples.at(-1).rssMb,
    rssMaxMb: Math.max(...samples.map(s => s.rssMb)),
    slopeMbPer100k: slope * 100_000,
    retained,
    // over the second half, as the slope: the replay window has turned over by then
    retainedBytesPerExchange: retainedSlope(retained.filter(r => r.exchanges >= done / 2)),
    cpuPerReq
  }
  console.log(`RSS over ${fmt(done)} exchanges, replay window ${REPLAY_WINDOW_S} s (${out.seconds.toFixed(0)} s, ${cpuPerReq.toFixed(0)} CPU µs/req): start ${out.rssStartMb?.toFixed(0)} MB, half-way ${out.rssMidMb?.toFixed(0)} MB, end ${out.rssEndMb.toFixed(0)} MB, max ${out.rssMaxMb.toFixed(0)} MB; slope over the second half ${out.slopeMbPer100k.toFixed(2)} MB per 100,000 exchanges; retained after GC ${retained.map(r => r.mb.toFixed(1)).join(' → ')} MB, ${out.retainedBytesPerExchange.toFixed(0)} bytes per exchange`)
  return out
}

const plan = await activation()
const rss = RSS_EXCHANGES > 0 ? await rssRun() : null
report('scale', { activation: plan, rss })
