// Two `govex start` on one config (two ports) both came up ready on the same
// file store: a plan created through one was 404 on the other, and both
// appended the same seq to the chain. A gateway now owns its data folder: the
// second start fails with GOVEX_ERR_CONFLICT naming the first (pid, host,
// since) while the first keeps serving; a SIGKILLed gateway does not block the
// next start, a cleanly stopped one frees the folder at once, and `govex
// audit`'s read-only view works beside a running gateway.
import t from 'tap'
import type { Test } from 'tap'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FileAuditLog } from '@govex/core'
import { spawnLines, type LineChild } from '../../core/test/helpers/child-lines.js'
import { createDeployment, samplePlan } from './helpers/deployment.js'

const RUNNER = fileURLToPath(new URL('./helpers/run-gateway.ts', import.meta.url))

function run (t: Test, configFile: string): LineChild {
  return spawnLines(t, RUNNER, [configFile])
}

async function started (t: Test, configFile: string): Promise<{ gw: LineChild, url: string }> {
  const gw = run(t, configFile)
  const first = await gw.next()
  t.type(first.url, 'string', 'the gateway started')
  return { gw, url: String(first.url) }
}

t.test('one gateway per data folder, across processes', async t => {
  const d = await createDeployment()
  t.teardown(() => d.cleanup())
  const { operator } = d.actors
  const lock = join(d.dir, 'data', 'govex.lock')
  const lockOf = async (): Promise<Record<string, unknown>> => JSON.parse(await readFile(lock, 'utf8')) as Record<string, unknown>
  const createPlan = async (url: string, version: number): Promise<number> =>
    (await fetch(url + '/v1/plans', { method: 'POST', headers: { ...operator.auth(), 'content-type': 'application/json' }, body: JSON.stringify({ ...samplePlan(), version }) })).status

  const a = await started(t, d.configFile)
  t.equal(await createPlan(a.url, 1), 201)
  const aLock = await lockOf()
  t.match(aLock, { pid: a.gw.child.pid, host: hostname() })

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
  const cLock = await lockOf()
  t.match(cLock, { pid: c.gw.child.pid }, 'the lock names the new gateway')
  t.not(cLock.nonce, aLock.nonce, 'a lock of its own, not the dead one')
  t.equal((await fetch(c.url + '/v1/plans/tj-sharing-plan', { headers: operator.auth() })).status, 200, 'the data is there')
  t.equal(await createPlan(c.url, 3), 201)

  // a clean stop frees the folder at once
  c.gw.child.kill('SIGTERM')
  t.same(await c.gw.next(), { closed: true })
  t.equal(await c.gw.exited, 0)
  t.notOk(existsSync(lock), 'the stop removed the lock: nothing to judge dead at the next start')
  const e = await started(t, d.configFile)
  t.equal((await fetch(e.url + '/readyz')).status, 200)
  const after = await FileAuditLog.openReadOnly({ dir: join(d.dir, 'data') })
  t.equal((await after.verify()).ok, true, 'the chain verifies after the takeover and the restart')
  await after.close()
})
