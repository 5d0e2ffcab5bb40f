// (b) The govex gateway, full pipeline: file store (audit appended and fsync'd
// in batches), real EdDSA JWTs, an active plan approved through the API,
// authorize(), replay guard, gateway-signed forward, minimisation, audit, reply.
// Built from packages/*/dist (run `npx tsc -b` first).
// argv: upstream URL, auth (lean | fastify-jwt), log level, store (file | memory | redis[=url]),
// replay window in seconds (optional; limits.replayWindowS, default the config's 86400).
// IPC: 'token' → { token } a fresh consumer token (they live 300 s); 'stop'.
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes, randomUUID } from 'node:crypto'
import { generateKeyPair, signJwt, signApproval, openMemoryStores } from '../../packages/core/dist/index.js'
import { buildGateway, loadConfig } from '../../packages/gateway/dist/index.js'
import { serveCpuAccounting } from './proxy-common.js'
import { dropRedisKeys } from '../lib/common.js'

const upstream = process.argv[2]
const auth = process.argv[3] ?? 'lean'
const logLevel = process.argv[4] ?? 'warn'
// 'memory' skips the data folder (and its fsync): to separate the store's cost from the pipeline's
const storeArg = process.argv[5] ?? 'file'
const storeKind = storeArg.split('=')[0]
const replayWindowS = process.argv[6] === undefined ? undefined : Number(process.argv[6])
const redisUrl = storeArg.includes('=') ? storeArg.slice(storeArg.indexOf('=') + 1) : 'redis://127.0.0.1:6379'
const redisPrefix = `govex-bench-${randomBytes(4).toString('hex')}:`
const dir = await mkdtemp(join(tmpdir(), 'govex-bench-'))
const gatewayId = 'tj.gw.bench'
const keys = Object.fromEntries(['gw', 'op', 'gov', 'psb', 'mca'].map(k => [k, generateKeyPair(k + '-k1')]))
const members = [
  { id: gatewayId, name: 'Bench gateway', roles: ['gateway'], keys: [keys.gw.publicJwk] },
  { id: 'tj.it-office', name: 'Operator', roles: ['operator'], keys: [keys.op.publicJwk] },
  { id: 'tj.gov', name: 'Approver', roles: ['approver'], keys: [keys.gov.publicJwk] },
  { id: 'tj.psb', name: 'Public security', roles: ['agency'], keys: [keys.psb.publicJwk] },
  { id: 'tj.mca', name: 'Civil affairs', roles: ['agency'], keys: [keys.mca.publicJwk] }
]
const directory = {
  agency: 'tj.psb',
  version: 1,
  resources: [{
    id: 'tj.psb:household-registration',
    name: 'Household registration',
    description: 'Registered permanent residence of natural persons',
    classification: 'basic:population',
    securityLevel: 'internal',
    sharing: { type: 'conditional', conditions: 'Benefit eligibility checks' },
    items: ['idNumber', 'name', 'householdAddress', 'householdType', 'birthDate', 'gender', 'relationToHead', 'registeredAt', 'note'].map(name => ({ name, type: 'string' })),
    query: [{ name: 'idNumber', type: 'string', required: true }],
    endpoint: { url: upstream + '/household', timeoutMs: 5000 }
  }]
}
const plan = {
  id: 'bench-plan',
  version: 1,
  title: 'Benchmark plan',
  validFrom: '2020-01-01T00:00:00Z',
  validUntil: '2099-12-31T23:59:59Z',
  grants: [{
    id: 'mca-household',
    consumer: 'tj.mca',
    resource: 'tj.psb:household-registration',
    fields: ['name', 'householdAddress', 'householdType'],
    purposes: ['minimum-living-guarantee-review'],
    conditions: { requireCaseRef: true, requireUserId: true }
  }]
}
await mkdir(join(dir, 'seed'))
await writeFile(join(dir, 'seed', 'gw.key.json'), JSON.stringify(keys.gw.privateJwk))
await writeFile(join(dir, 'seed', 'members.json'), JSON.stringify(members))
await writeFile(join(dir, 'seed', 'psb.json'), JSON.stringify(directory))
await writeFile(join(dir, 'govex.config.json'), JSON.stringify({
  gatewayId,
  zone: 'extranet',
  port: 0,
  keyFile: './seed/gw.key.json',
  store: storeKind === 'redis' ? { kind: 'redis', url: redisUrl, prefix: redisPrefix } : { kind: 'file', dir: './data' },
  bootstrap: { members: './seed/members.json', directories: ['./seed/psb.json'] },
  ...(replayWindowS === undefined ? {} : { limits: { replayWindowS } }),
  log: { level: logLevel }
}))
const config = await loadConfig(join(dir, 'govex.config.json'), {})
const stores = storeKind === 'memory' ? await openMemoryStores({ gatewayId }) : undefined
const app = await buildGateway({ config, logger: logLevel !== 'silent', auth, stores })

const token = (key, iss) => {
  const iat = Math.floor(Date.now() / 1000)
  return 'Bearer ' + signJwt(key.privateJwk, { iss, aud: gatewayId, iat, exp: iat + 300, jti: randomUUID() })
}
const op = { authorization: token(keys.op, 'tj.it-office') }
const gov = { authorization: token(keys.gov, 'tj.gov') }
let res = await app.inject({ method: 'POST', url: '/v1/plans', headers: op, payload: plan })
if (res.statusCode !== 201) throw new Error(res.body)
res = await app.inject({ method: 'POST', url: '/v1/plans/bench-plan/approve', headers: gov, payload: { signature: signApproval(res.json().digest, keys.gov.privateJwk) } })
if (res.statusCode !== 200) throw new Error(res.body)
res = await app.inject({ method: 'POST', url: '/v1/plans/bench-plan/activate', headers: op })
if (res.statusCode !== 200) throw new Error(res.body)

serveCpuAccounting()
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.send({ ready: true, url, authorization: token(keys.mca, 'tj.mca') })
process.on('message', async msg => {
  if (msg === 'token') process.send({ token: token(keys.mca, 'tj.mca') })
  // what stays after full collections (bench/scale starts this child with --expose-gc)
  if (msg === 'retained' && typeof globalThis.gc === 'function') {
    globalThis.gc()
    await new Promise(resolve => setTimeout(resolve, 50))
    globalThis.gc()
    const m = process.memoryUsage()
    process.send({ retained: { heapMb: m.heapUsed / 1048576, arrayBuffersMb: m.arrayBuffers / 1048576 } })
  }
  if (msg === 'stop') {
    await app.close()
    if (storeKind === 'redis') await dropRedisKeys(redisUrl, redisPrefix)
    await rm(dir, { recursive: true, force: true })
    process.exit(0)
  }
})
