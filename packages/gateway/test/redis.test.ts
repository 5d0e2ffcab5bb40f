// The gateway on the Redis store (store.kind "redis", @govex/redis imported
// lazily): two gateways sharing one Redis see each other's changes within 1 s
// and write one audit chain each. Skipped when no Redis answers on
// GOVEX_TEST_REDIS_URL (default redis://127.0.0.1:6379/0).
import t from 'tap'
import { connect } from 'node:net'
import { Writable } from 'node:stream'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import pino from 'pino'
import { openRedisStores } from '@govex/redis'
import { buildGateway, resolveConfig } from '../src/index.js'
import { createDeployment, samplePlan } from './helpers/deployment.js'
import { activatePlan, envelope, exchange, expectOk } from './helpers/gateway.js'

const url = process.env.GOVEX_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0'

async function reachable (): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return await new Promise(resolve => {
    const socket = connect({ host: hostname, port: Number(port || 6379) })
    socket.setTimeout(500)
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => { socket.destroy(); resolve(false) })
  })
}

/** Deletes the test's keys (by prefix) with redis-cli when it is installed. */
async function dropKeys (prefix: string): Promise<void> {
  const db = new URL(url).pathname.slice(1) || '0'
  const { hostname, port } = new URL(url)
  const script = `redis-cli -h ${hostname} -p ${port || 6379} -n ${db} --scan --pattern '${prefix}*' | xargs -r redis-cli -h ${hostname} -p ${port || 6379} -n ${db} del`
  await new Promise<void>(resolve => execFile('sh', ['-c', script], () => resolve()))
}

t.test('two gateways on one Redis', { skip: !await reachable() && `no Redis at ${url}` }, async t => {
  const d = await createDeployment()
  const prefix = `govex:test:${randomBytes(4).toString('hex')}:`
  const base = { ...d.raw, audience: 'tj.gw.pool', store: { kind: 'redis', url, prefix, spoolDir: './data/spool' } }
  const configA = resolveConfig(base, { dir: d.dir })
  const configB = resolveConfig({ ...base, gatewayId: 'tj.gw.test-2' }, { dir: d.dir })
  t.equal(configA.store.kind, 'redis')
  const a = await buildGateway({ config: configA })
  const b = await buildGateway({ config: configB })
  t.teardown(async () => { await a.close(); await b.close(); await dropKeys(prefix); await d.cleanup() })
  const A = { ...d, app: a }
  const B = { ...d, app: b }
  // Building a gateway blocks the event loop for a while, longer on a loaded machine, and a
  // change feed whose last answered heartbeat is older than FRESH_MS is rightly not ready:
  // ready within a few heartbeats, not necessarily on the first call.
  let ready = await b.inject({ method: 'GET', url: '/readyz' })
  for (const until = Date.now() + 2000; ready.statusCode === 503 && Date.now() < until;) {
    await new Promise(resolve => setTimeout(resolve, 50))
    ready = await b.inject({ method: 'GET', url: '/readyz' })
  }
  t.same(expectOk(ready), { status: 'ready', plan: null })
  t.equal((expectOk(await b.inject({ method: 'GET', url: '/v1/members', headers: d.actors.operator.auth({ aud: 'tj.gw.pool' }) })) as { members: unknown[] }).members.length, 7, 'bootstrapped once, seen by both')

  await activatePlan(A, samplePlan())
  const started = Date.now()
  let status = 0
  while (Date.now() - started < 1500) {
    status = (await exchange(B, 'tj.psb:household-registration', envelope(), d.actors.mca.auth({ aud: 'tj.gw.pool' }))).statusCode
    if (status === 200) break
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  t.equal(status, 200, `activation through A live on B after ${Date.now() - started} ms`)
  t.ok(Date.now() - started < 1000, 'within 1 s')

  const body = envelope()
  t.equal((await exchange(A, 'tj.psb:household-registration', body)).statusCode, 200)
  const replay = await exchange(B, 'tj.psb:household-registration', body, d.actors.mca.auth({ aud: 'tj.gw.pool' }))
  t.equal(replay.json().code, 'GOVEX_ERR_REPLAY', 'the replay guard is shared')

  const verify = expectOk(await b.inject({ method: 'GET', url: '/v1/audit/verify', headers: d.actors.auditor.auth({ aud: 'tj.gw.pool' }) })) as { ok: boolean, checked: number }
  t.equal(verify.ok, true)
  const page = expectOk(await a.inject({ method: 'GET', url: '/v1/audit?kind=exchange&limit=1000', headers: d.actors.auditor.auth() })) as { records: Array<{ gatewayId: string }> }
  t.same([...new Set(page.records.map(r => r.gatewayId))].sort(), ['tj.gw.test-1', 'tj.gw.test-2'], 'one chain per gateway, read from either')
})

t.test('Redis settings that weaken the promises are logged as warnings, not failures', { skip: !await reachable() && `no Redis at ${url}` }, async t => {
  // what this Redis's settings call for, as the store reports them
  const expected: string[] = []
  const probe = await openRedisStores({ url, prefix: `govex:test:${randomBytes(4).toString('hex')}:`, gatewayId: 'tj.gw.probe', onWarning: message => expected.push(message) })
  await probe.close()
  const lines: Array<{ level: number, msg?: string }> = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { for (const line of chunk.toString('utf8').trim().split('\n')) lines.push(JSON.parse(line)); done() } })
  const d = await createDeployment()
  const prefix = `govex:test:${randomBytes(4).toString('hex')}:`
  const config = resolveConfig({ ...d.raw, store: { kind: 'redis', url, prefix, spoolDir: './data/spool' } }, { dir: d.dir })
  const app = await buildGateway({ config, logger: pino({ level: 'info' }, sink) })
  t.teardown(async () => { await app.close(); await dropKeys(prefix); await d.cleanup() })
  await app.ready()
  // the old report put the text in err.message under a generic msg: look at the whole line
  const about = lines.filter(l => /append-only|maxmemory-policy/.test(JSON.stringify(l)))
  t.same(about.filter(l => l.level >= 50), [], 'nothing about the settings is logged as an error')
  t.same(about.filter(l => l.level === 40).map(l => l.msg), expected, `each warning the store reports is logged at warn (${expected.length} for this Redis)`)
})
