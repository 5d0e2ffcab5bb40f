// The embedded stores beyond the shared contract: pruning, quota arithmetic,
// change notification and option checks.
import t from 'tap'
import fc from 'fast-check'
import { MemoryReplayGuard } from '../src/store/memory/replay.js'
import { MemoryQuotaCounter } from '../src/store/memory/quota.js'
import { MemoryPlanStore } from '../src/store/memory/plans.js'
import { MemoryMemberRegistry } from '../src/store/memory/members.js'
import { compareKeys } from '../src/store/memory/documents.js'
import { openMemoryStores, openFileStores } from '../src/store/open.js'
import type { PlanState, PlanStatus } from '../src/schemas/plan.js'
import type { StoreChange } from '../src/store/types.js'

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000
const DAY0 = Date.UTC(2026, 5, 1)

function plan (id: string, version: number, status: PlanStatus, activatedAt: string | null = null): PlanState {
  return { id, version, title: 'Plan', validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-12-31T23:59:59Z', grants: [], status, digest: 'sha256:' + '1'.repeat(64), approvals: [], activatedAt }
}

t.test('replay guard prunes expired claims at the head', async t => {
  let now = 0
  const guard = new MemoryReplayGuard({ now: () => now })
  for (let i = 0; i < 100; i++) await guard.claim(`id-${i}`, 1)
  t.equal(guard.size, 100)
  now = 1000
  t.equal(await guard.claim('fresh', 1), true)
  t.equal(guard.size, 1, 'every expired claim went')
  t.equal(await guard.claim('fresh', 1), false)
})

t.test('replay guard sweeps when a long claim holds expired ones behind it', async t => {
  let now = 0
  const guard = new MemoryReplayGuard({ now: () => now })
  await guard.claim('long', 3600)
  for (let i = 0; i < 1100; i++) await guard.claim(`short-${i}`, 1)
  now = 2000
  for (let i = 0; i < 1000; i++) await guard.claim(`late-${i}`, 1)
  t.equal(guard.size, 1001, 'the expired short claims went in one sweep')
  t.equal(await guard.claim('long', 3600), false)
  t.equal(await guard.claim('short-1', 1), true, 'an expired id can be claimed again')
})

t.test('replay guard on the real clock', async t => {
  const guard = new MemoryReplayGuard()
  t.equal(await guard.claim('x', 60), true)
  t.equal(await guard.claim('x', 60), false)
})

t.test('quota: sliding minute weighs the previous bucket', async t => {
  const quota = new MemoryQuotaCounter()
  const start = DAY0 + 10 * MINUTE_MS
  for (let i = 0; i < 10; i++) t.same(await quota.consume('k', { perMinute: 10 }, start + 50_000 + i), { ok: true })
  // 30 s into the next bucket, half of the previous one still counts: 5 left.
  const next = start + MINUTE_MS + 30_000
  for (let i = 0; i < 5; i++) t.same(await quota.consume('k', { perMinute: 10 }, next), { ok: true })
  t.same(await quota.consume('k', { perMinute: 10 }, next), { ok: false, window: 'minute', retryAfterS: 6 }, '5 * (30 - e) / 60 + 5 + 1 <= 10 at e = 36 s')
  t.same(await quota.consume('k', { perMinute: 10 }, next + 6000), { ok: true })
  t.same(await quota.consume('k', { perMinute: 10 }, start + 5 * MINUTE_MS), { ok: true }, 'buckets long gone count nothing')
})

t.test('quota: a clock slightly behind stays in the current bucket', async t => {
  const quota = new MemoryQuotaCounter()
  const start = DAY0 + MINUTE_MS
  t.same(await quota.consume('k', { perMinute: 1 }, start + 10), { ok: true })
  t.match(await quota.consume('k', { perMinute: 1 }, start - 5), { ok: false, window: 'minute' })
})

t.test('quota: a limit below one never allows', async t => {
  const quota = new MemoryQuotaCounter()
  t.same(await quota.consume('m', { perMinute: 0 }, DAY0), { ok: false, window: 'minute', retryAfterS: 120 })
  t.same(await quota.consume('d', { perDay: 0 }, DAY0 + 1000), { ok: false, window: 'day', retryAfterS: 86_399 })
  t.same(await quota.consume('both', { perMinute: 1, perDay: 1 }, DAY0 + 1000), { ok: true })
  t.match(await quota.consume('both', { perMinute: 1, perDay: 1 }, DAY0 + 2000), { ok: false, window: 'day' }, 'both spent: the longer wait is told')
})

t.test('quota: idle keys are dropped as the map grows', async t => {
  const quota = new MemoryQuotaCounter()
  for (let i = 0; i < 1100; i++) await quota.consume(`k-${i}`, { perDay: 5 }, DAY0)
  t.equal(quota.size, 1100)
  for (let i = 0; i < 1000; i++) await quota.consume(`later-${i}`, { perDay: 5 }, DAY0 + 2 * DAY_MS)
  t.equal(quota.size, 1000, 'the idle keys went in one sweep')
  t.same(await quota.consume('k-1', { perDay: 1 }, DAY0 + 2 * DAY_MS), { ok: true }, 'a dropped key starts afresh')
})

t.test('quota: retryAfterS is the first whole second that allows', async t => {
  const replay = async (history: Array<[number, number]>, limit: number, probe: number) => {
    const quota = new MemoryQuotaCounter()
    for (const [at] of history) await quota.consume('k', { perMinute: limit }, at)
    return await quota.consume('k', { perMinute: limit }, probe)
  }
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 1, max: 12 }),
    fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 40 }),
    async (limit, gaps) => {
      const quota = new MemoryQuotaCounter()
      let now = DAY0 + 7 * MINUTE_MS + 123
      const history: Array<[number, number]> = []
      for (const gap of gaps) {
        now += gap
        const decision = await quota.consume('k', { perMinute: limit }, now)
        if (!decision.ok) {
          const at = now + decision.retryAfterS * 1000
          if (!(await replay(history, limit, at)).ok) return false
          if (decision.retryAfterS > 1 && (await replay(history, limit, at - 1000)).ok) return false
        }
        history.push([now, gap])
      }
      return true
    }), { numRuns: 150 })
  t.pass('truthful and tight to the second')
})

t.test('plans: re-writing the active plan as active does not supersede it', async t => {
  const changes: StoreChange[] = []
  const plans = new MemoryPlanStore({ onChange: c => changes.push(c) })
  await plans.create(plan('p', 1, 'active', '2026-02-01T00:00:00.000Z'))
  await plans.update(plan('p', 1, 'active', '2026-02-01T00:00:00.000Z'), 'active')
  t.equal((await plans.getActive())?.status, 'active')
  t.same(changes, [{ kind: 'plan', id: 'p', version: 1 }, { kind: 'plan', id: 'p', version: 1 }])
})

t.test('plans: a created active plan supersedes, dated now when it has no activatedAt', async t => {
  const plans = new MemoryPlanStore()
  await plans.create(plan('p', 1, 'active', '2026-02-01T00:00:00.000Z'))
  const before = Date.now()
  await plans.create(plan('q', 1, 'active'))
  t.equal((await plans.getActive())?.id, 'q')
  const old = await plans.get('p', 1) as PlanState
  t.equal(old.status, 'superseded')
  t.ok(Date.parse(old.supersededAt as string) >= before - 1000)
})

t.test('plans: reads hand out one deeply frozen state, which nobody can change', async t => {
  const plans = new MemoryPlanStore()
  const grant = { id: 'g1', consumer: 'tj.mca', resource: 'tj.psb:r', fields: ['name'], purposes: ['check'], conditions: { requireCaseRef: true } }
  await plans.create({ ...plan('p', 1, 'approved'), grants: [grant] })
  const first = await plans.get('p', 1) as PlanState
  t.equal(await plans.get('p'), first, 'no copy per read')
  t.equal((await plans.list())[0], first)
  t.ok(Object.isFrozen(first) && Object.isFrozen(first.grants) && Object.isFrozen(first.grants[0]) && Object.isFrozen(first.grants[0]?.fields) && Object.isFrozen(first.grants[0]?.conditions), 'frozen all the way down')
  t.throws(() => { (first as { status: string }).status = 'active' }, TypeError)
  t.throws(() => { (first.grants[0]?.fields as string[]).push('idNumber') }, TypeError)
  t.throws(() => { grant.conditions.requireCaseRef = false }, TypeError, 'the caller handed the state over')
  t.same((await plans.get('p', 1))?.grants[0]?.fields, ['name'])

  await plans.update({ ...first, status: 'active', activatedAt: '2026-02-01T00:00:00.000Z' }, 'approved')
  const active = await plans.getActive() as PlanState
  t.equal(active.grants, first.grants, 'a lifecycle step shares the grants it did not change')
  t.ok(Object.isFrozen(active))
  await plans.create(plan('q', 1, 'active', '2026-03-01T00:00:00.000Z'))
  const superseded = await plans.get('p', 1) as PlanState
  t.equal(superseded.status, 'superseded')
  t.equal(superseded.grants, first.grants)
  t.ok(Object.isFrozen(superseded))
  t.equal(first.status, 'approved', 'a state read earlier never changes')
})

t.test('documents: a store without listeners', async t => {
  const members = new MemoryMemberRegistry()
  await members.put({ id: 'tj.psb', name: 'PSB', roles: ['agency'], keys: [] })
  t.equal((await members.get('tj.psb'))?.name, 'PSB')
})

t.test('stores: options are checked at open', async t => {
  await t.rejects(openMemoryStores({ gatewayId: 'Not An Id' }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  await t.rejects(openFileStores({ dir: t.testdir(), gatewayId: '../x' }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  await t.rejects(openFileStores({ dir: '', gatewayId: 'tj.gw' }), { code: 'GOVEX_ERR_BAD_REQUEST', message: /store\.dir/ })
})

t.test('stores: subscriptions are independent, and a failing listener harms nobody', async t => {
  const stores = await openMemoryStores({ gatewayId: 'tj.gw' })
  t.teardown(() => stores.close())
  const heard: string[] = []
  const listener = (change: StoreChange): void => { heard.push(change.kind) }
  const stopFirst = stores.subscribe(listener)
  stores.subscribe(listener)
  stores.subscribe(() => { throw new Error('listener bug') })
  const warnings: Error[] = []
  const onWarning = (w: Error): void => { warnings.push(w) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  await stores.members.put({ id: 'tj.psb', name: 'PSB', roles: ['agency'], keys: [] })
  t.same(heard, ['member', 'member'], 'the same function subscribed twice hears twice')
  stopFirst()
  await stores.directories.put({ agency: 'tj.psb', version: 1, resources: [] })
  t.same(heard, ['member', 'member', 'directory'])
  await new Promise(resolve => setImmediate(resolve))
  t.match(warnings, [{ message: 'listener bug' }, { message: 'listener bug' }], 'reported as a process warning')
  t.equal((await stores.members.get('tj.psb'))?.name, 'PSB', 'the write stands')
})

t.test('keys sort by code unit, the same on every platform', async t => {
  t.equal(compareKeys('a', 'a'), 0)
  t.equal(compareKeys('B', 'a'), -1)
  t.equal(compareKeys('tj.psb', 'tj.mca'), 1)
})
