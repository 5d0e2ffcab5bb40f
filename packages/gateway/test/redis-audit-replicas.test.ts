// store.auditReplicas through the gateway: a master and a replica of the
// test's own (redis-server, no persistence; the shared Redis is not touched).
// With the replica live an exchange is answered 200; with it frozen (SIGSTOP)
// the exchange fails closed, 503 GOVEX_ERR_UNAVAILABLE within 2 s; thawed,
// exchanges are answered again and the audit chain verifies.
import t from 'tap'
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { buildGateway, resolveConfig } from '../src/index.js'
import { createDeployment, samplePlan } from './helpers/deployment.js'
import { activatePlan, envelope, exchange, expectOk } from './helpers/gateway.js'

async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

function answers (port: number, ...command: string[]): string | undefined {
  try {
    return execFileSync('redis-cli', ['-p', String(port), ...command], { encoding: 'utf8', timeout: 1000, stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return undefined
  }
}

async function redisServer (port: number, args: string[] = []): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], { stdio: 'ignore' })
  for (let i = 0; i < 100 && answers(port, 'PING') !== 'PONG'; i++) await new Promise(resolve => setTimeout(resolve, 50))
  return child
}

let missing: string | undefined
try {
  execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
  execFileSync('redis-cli', ['--version'], { stdio: 'ignore' })
} catch {
  missing = 'redis-server and redis-cli are not on PATH'
}

t.test('auditReplicas 1: 200 with the replica, 503 GOVEX_ERR_UNAVAILABLE within 2 s without, 200 again when it is back', { skip: missing }, async t => {
  const masterPort = await freePort()
  const replicaPort = await freePort()
  const master = await redisServer(masterPort)
  const replica = await redisServer(replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)])
  const d = await createDeployment()
  t.teardown(async () => {
    replica.kill('SIGCONT')
    await app.close()
    replica.kill('SIGKILL')
    master.kill('SIGKILL')
    await d.cleanup()
  })
  for (let i = 0; i < 100 && answers(masterPort, 'WAIT', '1', '100') !== '1'; i++) await new Promise(resolve => setTimeout(resolve, 50))
  const config = resolveConfig({ ...d.raw, store: { kind: 'redis', url: `redis://127.0.0.1:${masterPort}`, spoolDir: './data/spool', auditReplicas: 1 } }, { dir: d.dir })
  const app = await buildGateway({ config })
  const D = { ...d, app }
  await activatePlan(D, samplePlan())
  t.equal((await exchange(D, 'tj.psb:household-registration', envelope())).statusCode, 200, 'the replica acknowledges: 200')

  replica.kill('SIGSTOP')
  const started = Date.now()
  const refused = await exchange(D, 'tj.psb:household-registration', envelope())
  const ms = Date.now() - started
  t.equal(refused.statusCode, 503)
  t.equal(refused.json().code, 'GOVEX_ERR_UNAVAILABLE', `fails closed (${refused.json().message as string})`)
  t.ok(ms < 2000, `within 2 s (${ms} ms)`)

  replica.kill('SIGCONT')
  let status = 0
  const back = Date.now()
  while (status !== 200 && Date.now() - back < 10_000) {
    status = (await exchange(D, 'tj.psb:household-registration', envelope())).statusCode
    if (status !== 200) await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.equal(status, 200, `answered again ${Date.now() - back} ms after the replica is back`)
  const verify = expectOk(await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: d.actors.auditor.auth() })) as { ok: boolean, checked: number }
  t.equal(verify.ok, true, `the chain verifies (${verify.checked} records)`)
  t.equal(answers(replicaPort, 'XLEN', 'govex:{govex}:audit:' + config.gatewayId), String(verify.checked), 'the replica holds every record, once')
})
