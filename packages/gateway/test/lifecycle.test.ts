// Gateway lifecycle: changes made through one gateway reach another sharing the
// store within 1 s; a graceful stop on SIGTERM lets in-flight exchanges finish
// and flushes the audit log; a config that cannot start says why.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openMemoryStores, openFileStores } from '@govex/core'
import { buildGateway, startGateway, resolveConfig } from '../src/index.js'
import { createDeployment, samplePlan } from './helpers/deployment.js'
import { activatePlan, envelope, exchange, expectOk } from './helpers/gateway.js'
import { waitFor } from './helpers/wait.js'

t.test('two gateways on one store: every change is live on the other within 1 s', async t => {
  const d = await createDeployment()
  const stores = await openMemoryStores({ gatewayId: d.config.gatewayId })
  const a = await buildGateway({ config: d.config, stores })
  // Two gateways behind one load balancer share an audience (the pool name) besides their ids.
  const b = await buildGateway({ config: { ...d.config, gatewayId: 'tj.gw.test-2', audience: 'tj.gw.pool' }, stores })
  t.teardown(async () => { await a.close(); await b.close(); await stores.close(); await d.cleanup() })
  const A = { ...d, app: a }
  const B = { ...d, app: b }
  const viaB = async (): Promise<Awaited<ReturnType<typeof exchange>>> => await exchange(B, 'tj.psb:household-registration', envelope(), d.actors.mca.auth({ aud: 'tj.gw.pool' }))
  t.equal((await viaB()).json().code, 'GOVEX_ERR_NO_GRANT')
  await activatePlan(A, samplePlan())
  const started = Date.now()
  let status = 0
  while (Date.now() - started < 1000) {
    status = (await viaB()).statusCode
    if (status === 200) break
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  t.equal(status, 200, `the activation reached the other gateway in ${Date.now() - started} ms`)
  expectOk(await a.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/revoke', headers: d.actors.operator.auth() }))
  const revokedAt = Date.now()
  const code = await waitFor(1000, async () => (await viaB()).json().code, code => code === 'GOVEX_ERR_NO_GRANT')
  t.equal(code, 'GOVEX_ERR_NO_GRANT', `and so did the revocation, in ${Date.now() - revokedAt} ms`)
})

t.test('graceful stop: in-flight exchanges finish, the audit log is flushed, then it stops', async t => {
  const d = await createDeployment()
  t.teardown(() => d.cleanup())
  const listeners = process.listenerCount('SIGTERM')
  const running = await startGateway(d.config, { signals: true, exit: false, logger: false })
  t.equal(process.listenerCount('SIGTERM'), listeners + 1)
  const h = { ...d, app: running.app }
  await activatePlan(h, samplePlan())
  let release: () => void = () => {}
  d.psb.behave((_received, res) => {
    release = () => {
      const body = JSON.stringify({ data: { name: 'Late', householdAddress: 'X' } })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(body)
    }
  })
  const body = envelope()
  const inFlight = fetch(running.url + '/v1/exchange/tj.psb:household-registration', {
    method: 'POST',
    headers: { ...d.actors.mca.auth(), 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify(body)
  })
  while (d.psb.received.length === 0) await new Promise(resolve => setTimeout(resolve, 10))
  process.emit('SIGTERM', 'SIGTERM')
  await new Promise(resolve => setTimeout(resolve, 50))
  const refused = await fetch(running.url + '/healthz').then(r => r.status, () => 'refused')
  t.not(refused, 200, 'no new requests once stopping')
  release()
  const res = await inFlight
  t.equal(res.status, 200, 'the in-flight exchange finished')
  await running.close()
  const stores = await openFileStores({ dir: d.config.store.kind === 'file' ? d.config.store.dir : '', gatewayId: d.config.gatewayId })
  t.teardown(() => stores.close())
  const records = (await stores.audit.query({ kind: 'exchange' }, 10)).records
  t.match(records.at(-1), { id: body.id, outcome: 'allowed' }, 'its audit record is on disk')
  t.equal(process.listenerCount('SIGTERM'), listeners, 'signal handlers removed')
})

t.test('a gateway that cannot start says why', async t => {
  const d = await createDeployment()
  t.teardown(() => d.cleanup())
  await writeFile(join(d.dir, 'keys', 'gateway.key.json'), '{"kty":"OKP"}')
  await t.rejects(buildGateway({ config: d.config }), { code: 'GOVEX_ERR_INVALID_DOCUMENT', message: /keyFile .* is not an Ed25519 private JWK/ })
  await writeFile(join(d.dir, 'keys', 'gateway.key.json'), 'not json')
  await t.rejects(buildGateway({ config: d.config }), { message: /cannot be read as JSON/ })
  await writeFile(join(d.dir, 'keys', 'gateway.key.json'), JSON.stringify(d.actors.gateway.privateJwk))
  await writeFile(join(d.dir, 'seed', 'psb.json'), JSON.stringify({ agency: 'tj.psb', version: 1, resources: [{ id: 'tj.mca:x' }] }))
  await t.rejects(buildGateway({ config: d.config }), { code: 'GOVEX_ERR_INVALID_DOCUMENT', message: /psb\.json is not a valid directory document/ })
  const untouched = await openFileStores({ dir: d.config.store.kind === 'file' ? d.config.store.dir : '', gatewayId: d.config.gatewayId })
  t.same(await untouched.members.list(), [], 'a bad bootstrap file leaves the store empty')
  await untouched.close()
  const { psbDirectory } = await import('./helpers/deployment.js')
  await writeFile(join(d.dir, 'seed', 'psb.json'), JSON.stringify(psbDirectory(d.psb.url)))
  const missing = resolveConfig({ ...d.raw, bootstrap: { members: './seed/nope.json' } }, { dir: d.dir })
  await t.rejects(buildGateway({ config: missing }), { message: /nope\.json is not a readable bootstrap members file/ })
  const busy = await startGateway(d.config, { signals: false, logger: false }).catch((err: Error) => err)
  t.notOk(busy instanceof Error, 'a good config starts')
  if (!(busy instanceof Error)) {
    const port = Number(new URL(busy.url).port)
    // a data folder of its own: the running gateway owns d.config's (fix-one-gateway-per-data-folder)
    const second = { ...d.config, port, store: { kind: 'file' as const, dir: join(d.dir, 'data-2'), spoolDir: join(d.dir, 'data-2', 'spool') } }
    await t.rejects(startGateway(second, { signals: false, logger: false }), { code: 'EADDRINUSE' }, 'a port in use')
    await busy.close()
  }
})
