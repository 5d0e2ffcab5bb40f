// The runtime's rebuilds: a plan change re-indexes the plan only (members and
// catalog kept as they are), the watcher's notice of a write a caller already
// refreshed for costs no second rebuild, and any other change rebuilds it all.
import t from 'tap'
import { activatePlan, createPlanState, openMemoryStores } from '@govex/core'
import type { PlanState, Stores } from '@govex/core'
import type { FastifyBaseLogger } from 'fastify'
import { Runtime } from '../src/runtime.js'
import type { RuntimeOptions } from '../src/runtime.js'
import { GATEWAY_ID, makeActors, psbDirectory, samplePlan } from './helpers/deployment.js'
import { waitFor } from './helpers/wait.js'

const silent = { debug () {}, info () {}, warn () {}, error () {}, fatal () {}, trace () {}, child () { return silent }, level: 'silent', silent () {} } as unknown as FastifyBaseLogger
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

function active (version: number): PlanState {
  return activatePlan({ ...createPlanState(samplePlan(version)), status: 'approved' }, new Date().toISOString())
}

/** Memory stores with every test member and the psb directory, and a runtime over them (closed at teardown). */
async function world (t: { teardown: (fn: () => unknown) => void }, options: Omit<RuntimeOptions, 'stores' | 'log'>): Promise<{ stores: Stores, runtime: Runtime }> {
  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID })
  t.teardown(() => stores.close())
  for (const actor of Object.values(makeActors())) await stores.members.put(actor.member)
  await stores.directories.put(psbDirectory('http://127.0.0.1:1'))
  const runtime = new Runtime({ stores, log: silent, ...options })
  t.teardown(() => runtime.close())
  return { stores, runtime }
}

t.test('a plan change rebuilds the plan index only, once', async t => {
  const { stores, runtime } = await world(t, { debounceMs: 5 })
  let rebuilds = 0
  runtime.onRebuild = () => { rebuilds++ }
  await runtime.refresh()
  runtime.watch()
  const before = runtime.state
  t.equal(before.plan, null)

  await stores.plans.create(active(1))
  await runtime.refresh('plan')
  const after = runtime.state
  t.equal(after.plan?.plan.version, 1, 'the new plan is live when refresh resolves')
  t.equal(after.catalog, before.catalog, 'catalog reused')
  t.equal(after.members, before.members, 'members reused')
  t.equal(after.memberDocs, before.memberDocs)
  t.equal(after.generation, before.generation + 1)
  await sleep(50)
  t.equal(runtime.state, after, 'the store\'s notice of the same write rebuilt nothing')
  t.equal(rebuilds, 2)

  // A change seen only by the watcher: one plan-only rebuild, debounced.
  await stores.plans.create(active(2))
  await stores.plans.create({ ...createPlanState(samplePlan(3)) })
  // the debounced rebuild indexes the plan in slices: wait for it (a loaded machine can take more than a few ms)
  await waitFor(5000, () => runtime.state.plan?.plan.version, version => version === 2)
  t.equal(runtime.state.plan?.plan.version, 2, 'the watcher made the activation live')
  t.equal(runtime.state.catalog, before.catalog)
  t.equal(rebuilds, 3, 'a burst of changes, one rebuild')

  // Anything but a plan rebuilds it all.
  await stores.directories.put({ ...psbDirectory('http://127.0.0.1:2'), version: 2 })
  await waitFor(5000, () => runtime.state.catalog, catalog => catalog !== before.catalog)
  t.not(runtime.state.catalog, before.catalog, 'catalog compiled again')
  t.equal(runtime.state.plan?.plan.version, 2)
  t.equal(rebuilds, 4)

  // A plan change that leaves the active plan as it was keeps the state.
  const current = runtime.state
  await runtime.refresh('plan')
  t.equal(runtime.state, current)
})

t.test('a plan-only refresh before the first load loads everything', async t => {
  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID })
  t.teardown(() => stores.close())
  const actors = makeActors()
  await stores.members.put(actors.mca.member)
  await stores.directories.put(psbDirectory('http://127.0.0.1:1'))
  await stores.plans.create(active(1))
  const runtime = new Runtime({ stores, log: silent })
  t.teardown(() => runtime.close())
  await runtime.refresh('plan')
  t.ok(runtime.loaded)
  t.ok(runtime.state.members.has('tj.mca'))
  t.equal(runtime.state.plan?.plan.version, 1, 'and indexes the active plan')
  t.ok(runtime.state.catalog.get('tj.psb:household-registration'))
})

t.test('while a new plan is indexed, in slices, the previous index serves; then it is swapped in whole', async t => {
  // sliceMs 0: a turn of the event loop after every batch of grants
  const { stores, runtime } = await world(t, { indexSliceMs: 0 })
  await stores.plans.create(active(1))
  await runtime.refresh()
  const old = runtime.state.plan
  t.equal(old?.plan.version, 1)

  const base = samplePlan(2)
  const many = Array.from({ length: 5000 }, (_, i) => ({ id: `extra-${i}`, consumer: `tj.extra-${i}`, resource: 'tj.psb:household-registration', fields: ['name'], purposes: ['statistics'] }))
  const big = activatePlan({ ...createPlanState({ ...base, grants: [...base.grants, ...many] }), status: 'approved' }, new Date().toISOString())
  await stores.plans.create(big)
  let done = false
  const refreshed = runtime.refresh('plan').then(() => { done = true })
  const seen: Array<number | undefined> = []
  while (!done) {
    seen.push(runtime.state.plan?.plan.version)
    t.equal(runtime.state.plan, old, 'the previous index, whole, until the new one is complete')
    await new Promise(resolve => setImmediate(resolve))
  }
  await refreshed
  t.ok(seen.length > 2, `requests were served during the build (${seen.length} turns)`)
  const index = runtime.state.plan
  t.equal(index?.plan.version, 2)
  t.equal(index?.size, big.grants.length - 1, 'every grant the catalog serves (one names a resource of another directory)')
  t.ok(index?.lookup('tj.extra-4999', 'tj.psb:household-registration'))
  t.ok(index?.lookup('tj.mca', 'tj.psb:household-registration'))
})

t.test('a start that waited for the stores and then fails otherwise (a bad bootstrap) stops retrying and reports it once', async t => {
  const { runtime } = await world(t, { retryMs: 10 })
  const fatal: unknown[] = []
  runtime.onFatal = err => { fatal.push(err) }
  let attempts = 0
  await runtime.start(async () => {
    attempts++
    if (attempts < 3) throw Object.assign(new Error('Redis does not answer'), { code: 'GOVEX_ERR_UNAVAILABLE' })
    throw Object.assign(new Error('bad members file'), { code: 'GOVEX_ERR_INVALID_DOCUMENT' })
  })
  t.equal(runtime.loaded, false, 'started unready')
  // the retries run on timers (every 10 ms): wait for the fatal report rather than a fixed time
  await waitFor(5000, () => fatal.length, n => n > 0)
  t.equal(fatal.length, 1, 'the bad bootstrap is reported')
  // then ten retry periods, in which a retry that went on would show
  await sleep(100)
  t.equal(attempts, 3, 'retried while the stores did not answer, then stopped')
  t.equal(fatal.length, 1, 'reported once')
  t.match(fatal[0], { message: 'bad members file' })
  t.equal(runtime.loaded, false, 'still unready: readyz stays 503')
})

t.test('after a reload (the stores reconnected) the state is not current until a full rebuild started after it succeeds', async t => {
  const { stores } = await world(t, {})
  // the memory stores never reconnect: this one tells a reload when the test says, and can stop answering
  let tell: (change: { kind: 'reload' }) => void = () => {}
  let down = false
  const list = stores.members.list.bind(stores.members)
  const flaky: Stores = {
    ...Object.fromEntries((['directories', 'disclosures', 'plans', 'replay', 'quota', 'audit'] as const).map(k => [k, stores[k]])),
    members: { get: async id => await stores.members.get(id), put: async m => { await stores.members.put(m) }, list: async () => { if (down) throw Object.assign(new Error('Redis does not answer'), { code: 'GOVEX_ERR_UNAVAILABLE' }); return await list() } },
    admit: async a => await stores.admit(a),
    subscribe: listener => { tell = listener; return () => {} },
    ping: async () => { await stores.ping() },
    close: async () => { await stores.close() }
  } as Stores
  const runtime = new Runtime({ stores: flaky, log: silent, debounceMs: 1, retryMs: 20 })
  t.teardown(() => runtime.close())
  runtime.watch()
  await runtime.refresh()
  t.equal(runtime.current, true, 'current once loaded')

  down = true
  tell({ kind: 'reload' })
  t.equal(runtime.current, false, 'not current from the reload on')
  await sleep(60)
  t.equal(runtime.current, false, 'rebuilds that fail leave it so')
  down = false
  await waitFor(5000, () => runtime.current, current => current)
  t.pass('current again once a full rebuild succeeds')

  // a rebuild that was under way when the reload came does not count
  const gates: Array<() => void> = []
  flaky.members.list = async () => { await new Promise<void>(resolve => gates.push(resolve)); return await list() }
  const running = runtime.refresh()
  await waitFor(5000, () => gates.length, n => n === 1)
  tell({ kind: 'reload' })
  gates[0]?.()
  await waitFor(5000, () => gates.length, n => n === 2)
  t.equal(runtime.current, false, 'the rebuild under way when the reload came finished: still not current')
  gates[1]?.()
  await running
  await waitFor(5000, () => runtime.current, current => current)
  t.pass('current once the rebuild the reload asked for is done')
  t.ok(runtime.loaded)
})
