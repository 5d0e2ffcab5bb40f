// Micro-benchmarks of the single steps of an exchange, in CPU time of this
// process (steadier than wall time on a shared box), median of interleaved rounds:
// JWT verification uncached and cached, the gateway's Ed25519 signature per
// forwarded call, audit sealing (record serialiser vs the canonicalize package),
// canonical JSON + sha256 of a minimised answer, and audit appends/s on the file
// store and on Redis (64 concurrent appenders, each awaiting durability).
// Run alone after `npx tsc -b`: node bench/micro/index.js   (BENCH_SMOKE=1: seconds)
import { randomBytes, randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, signJwt, verifyJwt, openMemoryStores, canonicalJson, sha256, ZERO_DIGEST } from '../../packages/core/dist/index.js'
import { canonicalJsonReference } from '../../packages/core/dist/canonical.js'
import { recordBody } from '../../packages/core/dist/audit/record-json.js'
import { sealLine } from '../../packages/core/dist/audit/chain.js'
import { FileAuditLog } from '../../packages/core/dist/store/file/audit-log.js'
import { ed25519Backend, gatewayKeyFromJwk } from '../../packages/gateway/dist/index.js'
import { createAuthenticator } from '../../packages/gateway/dist/auth.js'
import { Runtime } from '../../packages/gateway/dist/runtime.js'
import { SMOKE, median, report, fmt, dropRedisKeys } from '../lib/common.js'
import { benchEntry } from '../lib/audit-entry.js'

const ROUNDS = SMOKE ? 1 : 5
const N = SMOKE ? 300 : 20_000
const APPEND_S = SMOKE ? 0.3 : 3

/** µs of CPU per call of fn(i), median over rounds. */
function cpuPerCall (fn, n = N) {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i)
  const rounds = []
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.cpuUsage()
    for (let i = 0; i < n; i++) fn(i)
    const used = process.cpuUsage(start)
    rounds.push((used.user + used.system) / n)
  }
  return median(rounds)
}

const results = {}
const line = (name, us, note = '') => {
  results[name] = { us, perSecond: 1e6 / us, note }
  console.log(`${name.padEnd(52)} ${us.toFixed(2).padStart(8)} µs  ${fmt(1e6 / us).padStart(10)}/s  ${note}`)
}

// ---- authentication ---------------------------------------------------------
const gatewayId = 'tj.gw.bench'
const mca = generateKeyPair('mca-k1')
const stores = await openMemoryStores({ gatewayId })
await stores.members.put({ id: 'tj.mca', name: 'M', roles: ['agency'], keys: [mca.publicJwk] })
const runtime = new Runtime({ stores, log: { debug () {}, info () {}, warn () {}, error () {} } })
await runtime.refresh()
const iat = Math.floor(Date.now() / 1000)
const tokens = Array.from({ length: 64 }, () => signJwt(mca.privateJwk, { iss: 'tj.mca', aud: gatewayId, iat, exp: iat + 300, jti: randomUUID() }))
const memberKey = runtime.state.members.get('tj.mca').onlyKey.key
line('JWT verify, uncached (core verifyJwt, Ed25519)', cpuPerCall(i => {
  const r = verifyJwt(tokens[i & 63], () => memberKey, { audience: [gatewayId], maxTtlS: 300, skewS: 30, now: Date.now() })
  if (!r.ok) throw new Error(r.message)
}, SMOKE ? 100 : 3000))
const Fastify = createRequire(new URL('../../packages/gateway/package.json', import.meta.url))('fastify')
const app = Fastify()
const authenticator = await createAuthenticator(app, 'lean', { runtime, audiences: [gatewayId], now: Date.now })
let captured
app.get('/', async request => { captured = request; return 'ok' })
await app.inject({ method: 'GET', url: '/', headers: { authorization: 'Bearer ' + tokens[0] } })
line('JWT verify, cached (gateway lean path, cache hit)', cpuPerCall(() => authenticator.authenticate(captured)))
await app.close()

// ---- the forwarded call's signature -------------------------------------------
const gwJwk = generateKeyPair('gw-k1').privateJwk
const fields = ['name', 'householdAddress', 'householdType']
// libsodium where sodium-native loads (the gateway's default), and node:crypto (its fallback), same bytes
for (const backend of [ed25519Backend, 'node:crypto']) {
  const gw = gatewayKeyFromJwk(gwJwk, backend)
  line(`Ed25519 sign of the gateway → provider JWT (${gw.backend})`, cpuPerCall(i => gw.sign({
    iss: gatewayId, aud: 'tj.psb', iat, exp: iat + 60, jti: tokens[i & 63].slice(-36), resource: 'tj.psb:household-registration', consumer: 'tj.mca', fields, digest: ZERO_DIGEST
  }), SMOKE ? 100 : 5000))
  if (backend === 'node:crypto') break
}

// ---- audit sealing -------------------------------------------------------------
const entries = Array.from({ length: 1024 }, (_, i) => benchEntry(i))
const ts = new Date().toISOString()
const records = entries.map((e, i) => sealLine(e, { gatewayId, seq: i + 1, ts, prevHash: ZERO_DIGEST }).record)
const unsealed = records.map(({ hash: _h, ...rest }) => rest)
line('audit record: record serialiser + sha256 (used)', cpuPerCall(i => sha256(recordBody(unsealed[i & 1023]))))
line('audit record: canonicalJson (sorted copy) + sha256', cpuPerCall(i => sha256(canonicalJson(unsealed[i & 1023]))))
line('audit record: canonicalize package + sha256', cpuPerCall(i => sha256(canonicalJsonReference(unsealed[i & 1023]))))
line('audit record: full seal (sealLine)', cpuPerCall(i => sealLine(entries[i & 1023], { gatewayId, seq: i + 1, ts, prevHash: ZERO_DIGEST })))
const answer = { name: 'Zhang San', householdAddress: 'No. 12 Nanjing Road, Heping District, Tianjin', householdType: 'family-household' }
line('response digest: canonicalJson + sha256 (minimised data)', cpuPerCall(() => sha256(canonicalJson(answer))))
line('response digest: canonicalize package + sha256', cpuPerCall(() => sha256(canonicalJsonReference(answer))))

// ---- audit appends -------------------------------------------------------------
async function appendsPerSecond (log, concurrency) {
  const until = Date.now() + APPEND_S * 1000
  let n = 0
  const started = performance.now()
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < until || (SMOKE && n < 300)) { await log.append(benchEntry(n++)) }
  }))
  const used = process.cpuUsage(cpu)
  return { perSecond: n / ((performance.now() - started) / 1000), cpuUs: (used.user + used.system) / n }
}
const appends = {}
const dir = await mkdtemp(join(tmpdir(), 'govex-bench-micro-'))
try {
  // the same appends made durable by write + fdatasync (the file log's way before session 4, and on
  // systems other than Linux), beside the default O_DSYNC write, each in a log of its own
  const fdatasync = await FileAuditLog.open({ dir: join(dir, 'fdatasync'), gatewayId, durability: 'fdatasync' })
  appends['file store, write + fdatasync'] = await appendsPerSecond(fdatasync, 64)
  await fdatasync.close()
  const file = await FileAuditLog.open({ dir, gatewayId })
  appends.file = await appendsPerSecond(file, 64)
  // the same once an auditor's query has built the query index, which appends then keep up to date
  await file.query({}, 1)
  appends['file store, query index built'] = await appendsPerSecond(file, 64)
  await file.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
console.log(`audit appends, file store, 64 concurrent: ${fmt(appends.file.perSecond)}/s (${appends.file.cpuUs.toFixed(1)} µs CPU each, O_DSYNC batches; write + fdatasync: ${appends['file store, write + fdatasync'].cpuUs.toFixed(1)} µs, ${fmt(appends['file store, write + fdatasync'].perSecond)}/s); with the query index built: ${fmt(appends['file store, query index built'].perSecond)}/s (${appends['file store, query index built'].cpuUs.toFixed(1)} µs CPU each)`)
try {
  const { openRedisStores } = await import('../../packages/redis/dist/index.js')
  const prefix = `govex-bench-${randomBytes(4).toString('hex')}:`
  const spool = await mkdtemp(join(tmpdir(), 'govex-bench-spool-'))
  const redisStores = await openRedisStores({ url: 'redis://127.0.0.1:6379', prefix, gatewayId, spoolDir: spool, onError () {} })
  try {
    appends.redis = await appendsPerSecond(redisStores.audit, 64)
  } finally {
    await redisStores.close()
    await dropRedisKeys('redis://127.0.0.1:6379', prefix)
    await rm(spool, { recursive: true, force: true })
  }
  console.log(`audit appends, Redis store, 64 concurrent: ${fmt(appends.redis.perSecond)}/s (${appends.redis.cpuUs.toFixed(1)} µs CPU each in this process)`)
} catch (err) {
  console.log(`audit appends, Redis: skipped (${err.message})`)
}
// ---- the replay guard's memory (a child: it needs --expose-gc) -------------------
const replayIds = SMOKE ? 20_000 : 1_000_000
const replay = JSON.parse(execFileSync(process.execPath, ['--expose-gc', new URL('replay-memory.js', import.meta.url).pathname, String(replayIds)], { encoding: 'utf8' }))
console.log(`replay guard, ${fmt(replay.ids)} ids held: ${replay.guard.bytesPerId.toFixed(1)} B/id, ${replay.guard.cpuUsPerAdmission.toFixed(2)} µs/admission (baseline Map<string, expiry>: ${replay.map.bytesPerId.toFixed(1)} B/id, ${replay.map.cpuUsPerAdmission.toFixed(2)} µs)`)

runtime.close()
await stores.close()
report('micro', { steps: results, appends, replay })
