// Two gateway processes on one Redis (issue: scale out): a plan activated
// through A is enforced by B within 1 s; a revoke through B stops A within 1 s;
// an envelope id used on A is a replay on B; the quota is shared; an auditor
// sees both chains from either gateway, and both chains verify.
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { generateKeyPair, signJwt, signApproval, type Member, type PrivateJwk, type Role } from '@govex/core'
import { needRedis, randomPrefix, deletePrefix, REDIS_URL } from './helpers/redis.js'
import { startGatewayProcess, freePort, CLI_BUILT, type GatewayProcess } from './helpers/processes.js'

const POOL = 'tj.gw.pool'
const PURPOSE = 'minimum-living-guarantee-review'

interface Actor { id: string, key: PrivateJwk, member: Member }
function actor (id: string, roles: Role[]): Actor {
  const { privateJwk, publicJwk } = generateKeyPair(`${id}-k1`)
  return { id, key: privateJwk, member: { id, name: id, roles, keys: [publicJwk] } }
}
function auth (a: Actor): Record<string, string> {
  const iat = Math.floor(Date.now() / 1000)
  return { authorization: 'Bearer ' + signJwt(a.key, { iss: a.id, aud: POOL, iat, exp: iat + 120, jti: randomUUID() }) }
}
async function call (base: string, a: Actor, method: string, path: string, body?: unknown): Promise<{ status: number, json: Record<string, unknown> }> {
  const headers: Record<string, string> = auth(a)
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  return { status: res.status, json: await res.json() as Record<string, unknown> }
}

/** Polls `probe` until it returns true; resolves with the elapsed ms, or rejects after `limitMs`. */
async function within (limitMs: number, probe: () => Promise<boolean>): Promise<number> {
  const start = performance.now()
  for (;;) {
    if (await probe()) return performance.now() - start
    if (performance.now() - start > limitMs) throw new Error(`not within ${limitMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

t.test('two gateways on one Redis', { skip: CLI_BUILT ? false : 'packages/cli/dist is missing: run `pnpm build` first' }, async t => {
  if (!(await needRedis(t))) return
  const prefix = randomPrefix()
  const dir = await mkdtemp(join(tmpdir(), 'govex-e2e-'))
  const gwA = actor('tj.gw.a', ['gateway'])
  const gwB = actor('tj.gw.b', ['gateway'])
  const operator = actor('tj.it-office', ['operator'])
  const approver = actor('tj.gov', ['approver'])
  const auditor = actor('tj.audit', ['auditor'])
  const mca = actor('tj.mca', ['agency'])
  const psb = actor('tj.psb', ['agency'])

  let provided = 0
  const provider: Server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      provided++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ data: { name: 'Zhang San', householdAddress: 'Heping', idNumber: '1' } }))
    })
  })
  provider.keepAliveTimeout = 5000
  await new Promise<void>(resolve => provider.listen(0, '127.0.0.1', resolve))
  const providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`

  const gateways: GatewayProcess[] = []
  t.teardown(async () => {
    await Promise.all(gateways.map(g => g.stop()))
    await new Promise<void>(resolve => provider.close(() => resolve()))
    await deletePrefix(REDIS_URL, prefix)
    await rm(dir, { recursive: true, force: true })
  })

  await writeFile(join(dir, 'members.json'), JSON.stringify([gwA, gwB, operator, approver, auditor, mca, psb].map(a => a.member)))
  await writeFile(join(dir, 'psb.json'), JSON.stringify({
    agency: 'tj.psb',
    version: 1,
    resources: [{
      id: 'tj.psb:household-registration',
      name: 'Household registration',
      description: 'Registered permanent residence',
      classification: 'basic:population',
      securityLevel: 'internal',
      sharing: { type: 'unconditional' },
      items: [{ name: 'name', type: 'string' }, { name: 'householdAddress', type: 'string' }, { name: 'idNumber', type: 'string' }],
      endpoint: { url: providerUrl + '/household' }
    }]
  }))
  for (const gw of [gwA, gwB]) {
    await writeFile(join(dir, `${gw.id}.key.json`), JSON.stringify(gw.key))
    await writeFile(join(dir, `${gw.id}.config.json`), JSON.stringify({
      gatewayId: gw.id,
      zone: 'extranet',
      port: 0,
      audience: POOL,
      keyFile: `./${gw.id}.key.json`,
      store: { kind: 'redis', url: REDIS_URL, prefix, spoolDir: `./spool-${gw.id}` },
      bootstrap: { members: './members.json', directories: ['./psb.json'] },
      log: { level: 'warn' }
    }))
  }
  // A bootstraps the empty store; B finds it filled
  const a = await startGatewayProcess(join(dir, `${gwA.id}.config.json`), await freePort())
  gateways.push(a)
  const b = await startGatewayProcess(join(dir, `${gwB.id}.config.json`), await freePort())
  gateways.push(b)

  let sent = 0
  const exchange = (g: GatewayProcess, id: string = randomUUID()) => {
    sent++
    return call(g.url, mca, 'POST', '/v1/exchange/tj.psb:household-registration', { id, purpose: PURPOSE, fields: ['name'] })
  }

  t.equal((await exchange(b)).json.code, 'GOVEX_ERR_NO_GRANT', 'no plan yet')

  const plan = {
    id: 'tj-sharing-plan',
    version: 1,
    title: 'Scale-out test plan',
    validFrom: '2020-01-01T00:00:00Z',
    validUntil: '2099-12-31T23:59:59Z',
    grants: [{ id: 'mca-household', consumer: 'tj.mca', resource: 'tj.psb:household-registration', fields: ['name', 'householdAddress'], purposes: [PURPOSE], quota: { perMinute: 4 } }]
  }
  t.equal((await call(a.url, operator, 'POST', '/v1/plans', plan)).status, 201)
  const { json: { digest } } = await call(a.url, approver, 'GET', '/v1/plans/tj-sharing-plan/digest')
  t.equal((await call(a.url, approver, 'POST', '/v1/plans/tj-sharing-plan/approve', { signature: signApproval(String(digest), approver.key) })).status, 200)
  t.equal((await call(a.url, operator, 'POST', '/v1/plans/tj-sharing-plan/activate')).status, 200)

  const firstId = randomUUID()
  const activationMs = await within(1000, async () => (await exchange(b, firstId)).status === 200)
  t.pass(`the plan activated through A was enforced by B after ${activationMs.toFixed(0)} ms`)
  t.ok(activationMs < 1000)

  const replay = await exchange(a, firstId)
  t.equal(replay.status, 409, 'the envelope id used on B is a replay on A')
  t.equal(replay.json.code, 'GOVEX_ERR_REPLAY')

  // quota perMinute 4 is shared: B used 1; A 2 more, B 1 more; the 5th anywhere is refused
  t.equal((await exchange(a)).status, 200)
  t.equal((await exchange(a)).status, 200)
  t.equal((await exchange(b)).status, 200)
  const spent = await exchange(a)
  t.equal(spent.status, 429, 'the quota is shared between the gateways')
  t.equal(spent.json.code, 'GOVEX_ERR_QUOTA')
  t.equal((await exchange(b)).status, 429)
  t.equal(provided, 4, 'the provider answered only the allowed exchanges')

  t.equal((await call(b.url, operator, 'POST', '/v1/plans/tj-sharing-plan/revoke')).status, 200)
  const revokeMs = await within(1000, async () => (await exchange(a)).json.code === 'GOVEX_ERR_NO_GRANT')
  t.pass(`the revoke through B stopped A after ${revokeMs.toFixed(0)} ms`)

  for (const g of [a, b]) {
    const { status, json } = await call(g.url, auditor, 'GET', '/v1/audit?kind=exchange&limit=1000')
    t.equal(status, 200)
    const chains = new Set((json.records as Array<{ gatewayId: string }>).map(r => r.gatewayId))
    t.same([...chains].sort(), ['tj.gw.a', 'tj.gw.b'], `an auditor on ${g.url} sees both chains`)
    const verify = await call(g.url, auditor, 'GET', '/v1/audit/verify')
    t.equal(verify.json.ok, true, 'both chains verify')
  }
  const all = await call(a.url, auditor, 'GET', '/v1/audit?kind=exchange&limit=1000')
  t.equal((all.json.records as unknown[]).length, sent, `one audit record per exchange request (${sent} sent)`)
})
