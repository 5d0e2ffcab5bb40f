// Two `govex start` on one config (two ports) both came up ready on the same
// file store: a plan created through one was 404 on the other, and both
// appended the same seq to the chain. A gateway now owns its data folder: the
// second start fails with GOVEX_ERR_CONFLICT naming the first (pid, host,
// since) while the first keeps serving; a SIGKILLed gateway does not block the
// next start, a cleanly stopped one frees the folder at once, and `govex
// audit`'s read-only view works beside a running gateway.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FileAuditLog } from '@govex/core'
import { createDeployment, samplePlan } from './helpers/deployment.js'

const RUNNER = fileURLToPath(new URL('./helpers/run-gateway.ts', import.meta.url))

interface Child {
  child: ChildProcessWithoutNullStreams
  next: () => Promise<Record<string, unknown>>
  exited: Promise<number | null>
}

function run (t: Test, configFile: string): Child {
  const child = spawn(process.execPath, [...process.execArgv, RUNNER, configFile], { stdio: 'pipe' })
  const exited = new Promise<number | null>(resolve => { child.once('exit', code => { resolve(code) }) })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  let stderr = ''
  child.stderr.on('data', chunk => { stderr += String(chunk) })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next()
    if (done === true) throw new Error(`the gateway process ended without answering: ${stderr}`)
    return JSON.parse(value as string) as Record<string, unknown>
  }
  return { child, next, exited }
}

async function started (t: Test, configFile: string): Promise<{ gw: Child, url: string }> {
  const gw = run(t, configFile)
  const first = await gw.next()
  t.type(first.url, 'string', 'the gateway started')
  return { gw, url: String(first.url) }
}

t.test('one gateway per data folder, across processes', async t => {
  const d = await createDeployment()
  t.teardown(() => d.cleanup())
  const { operator } = d.actors
  const createPlan = async (url: string, version: number): Promise<number> =>
    (await fetch(url + '/v1/plans', { method: 'POST', headers: { ...operator.auth(), 'content-type': 'application/json' }, body: JSON.stringify({ ...samplePlan(), version }) })).status

  const a = await started(t, d.configFile)
  t.equal(await createPlan(a.url, 1), 201)

  // a second gateway on the same config is refused at start, naming the first
  const b = run(t, d.configFile)
  const refused = await b.next()
  t.equal(refused.code, 'GOVEX_ERR_CONFLICT')
  if (refused.code === undefined) b.child.kill('SIGKILL') // it started: the old code
  t.equal(await b.exited, 3, 'the second gateway does not run')
  const message = String(refused.message)
  t.match(message, `is in use by process ${a.gw.child.pid ?? 0} on ${hostname()} since 20`)
  t.match(message, join(d.dir, 'data'))
  t.match(message, /stop the other gateway, give this one its own store.dir, or use the Redis store/)

  // the first keeps serving, and `govex audit`'s read-only view works beside it
  t.equal((await fetch(a.url + '/readyz')).status, 200)
  t.equal(await createPlan(a.url, 2), 201)
  const reader = await FileAuditLog.openReadOnly({ dir: join(d.dir, 'data') })
  const verified = await reader.verify()
  await reader.close()
  t.equal(verified.ok, true, 'one chain, unbroken')
  t.ok(verified.checked > 2)

  // SIGKILL leaves its lock; the next start takes it over and has the plans
  a.gw.child.kill('SIGKILL')
  await a.gw.exited
  const c = await started(t, d.configFile)
  t.equal((await fetch(c.url + '/v1/plans/tj-sharing-plan', { headers: operator.auth() })).status, 200, 'the data is there')
  t.equal(await createPlan(c.url, 3), 201)

  // a clean stop frees the folder at once
  c.gw.child.kill('SIGTERM')
  t.same(await c.gw.next(), { closed: true })
  t.equal(await c.gw.exited, 0)
  const e = await started(t, d.configFile)
  t.equal((await fetch(e.url + '/readyz')).status, 200)
  const after = await FileAuditLog.openReadOnly({ dir: join(d.dir, 'data') })
  t.equal((await after.verify()).ok, true, 'the chain verifies after the takeover and the restart')
  await after.close()
})
