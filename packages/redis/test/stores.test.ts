// Members, directories, disclosures and plans on Redis: key layout, atomic
// plan activation, and changes reaching a second store instance within 1 s.
import t from 'tap'
import type { StoreChange } from '@govex/core'
import { needRedis, scope, rawClient } from './helpers/redis.js'
import { eventually, member, planState } from './helpers/fixtures.js'

if (await needRedis(t)) {
  t.test('documents: put, get, list, under the prefix with the cluster hash tag', async t => {
    const s = scope(t)
    const stores = await s.open()
    await stores.members.put(member('tj.psb'))
    await stores.members.put(member('tj.mca'))
    await stores.members.put({ ...member('tj.psb'), name: 'Public Security Bureau' })
    t.equal((await stores.members.get('tj.psb'))?.name, 'Public Security Bureau')
    t.equal(await stores.members.get('tj.none'), undefined)
    t.same((await stores.members.list()).map(m => m.id), ['tj.mca', 'tj.psb'])
    await stores.directories.put({ agency: 'tj.psb', version: 2, resources: [] })
    t.same(await stores.directories.get('tj.psb'), { agency: 'tj.psb', version: 2, resources: [] })
    t.same((await stores.directories.list()).map(d => d.agency), ['tj.psb'])
    await stores.disclosures.put({ agency: 'tj.psb', entries: [] })
    t.same(await stores.disclosures.get('tj.psb'), { agency: 'tj.psb', entries: [] })
    t.equal(await stores.disclosures.get('tj.mca'), undefined)
    t.same((await stores.disclosures.list()).length, 1)
    const raw = await rawClient(t)
    const keys = (await raw.keys(`${s.prefix}*`)).sort()
    t.same(keys, [`${s.prefix}{govex}:directories`, `${s.prefix}{govex}:disclosures`, `${s.prefix}{govex}:members`])
    await stores.ping()
  })

  t.test('plans: create refuses an existing version, update is compare-and-set', async t => {
    const stores = await scope(t).open()
    await stores.plans.create(planState('p', 1))
    await t.rejects(stores.plans.create(planState('p', 1)), { code: 'GOVEX_ERR_CONFLICT' })
    await stores.plans.create(planState('p', 3))
    await stores.plans.create(planState('p', 2))
    t.equal((await stores.plans.get('p'))?.version, 3, 'latest version, whatever the order of creation')
    t.equal((await stores.plans.get('p', 2))?.version, 2)
    t.equal(await stores.plans.get('p', 9), undefined)
    t.equal(await stores.plans.get('q'), undefined)
    await t.rejects(stores.plans.update(planState('p', 9, 'approved'), 'draft'), { code: 'GOVEX_ERR_NOT_FOUND' })
    await t.rejects(stores.plans.update(planState('p', 1, 'active'), 'approved'), { code: 'GOVEX_ERR_CONFLICT', message: /is draft, not approved/ })
    await stores.plans.update(planState('p', 1, 'approved'), 'draft')
    t.equal((await stores.plans.get('p', 1))?.status, 'approved')
    await stores.plans.create(planState('a', 1))
    t.same((await stores.plans.list()).map(p => `${p.id}:${p.version}`), ['a:1', 'p:1', 'p:2', 'p:3'])
    t.equal(await stores.plans.getActive(), undefined)
  })

  t.test('plans: activation supersedes the previous active plan atomically', async t => {
    const stores = await scope(t).open()
    for (const v of [1, 2]) await stores.plans.create(planState('p', v, 'approved'))
    await stores.plans.update(planState('p', 1, 'active', { activatedAt: '2026-02-01T00:00:00.000Z' }), 'approved')
    t.equal((await stores.plans.getActive())?.version, 1)
    await stores.plans.update(planState('p', 2, 'active', { activatedAt: '2026-03-01T00:00:00.000Z' }), 'approved')
    const active = await stores.plans.getActive()
    t.equal(active?.version, 2)
    const old = await stores.plans.get('p', 1)
    t.equal(old?.status, 'superseded')
    t.equal(old?.supersededAt, '2026-03-01T00:00:00.000Z')
    t.same(old?.grants, [], 'the superseded document is rewritten by JSON, not by Lua (empty arrays stay arrays)')
    // revoking the active plan leaves none active
    await stores.plans.update({ ...planState('p', 2, 'revoked'), revokedAt: '2026-04-01T00:00:00.000Z' }, 'active')
    t.equal(await stores.plans.getActive(), undefined)
  })

  t.test('plans: concurrent activations from two gateways leave exactly one active plan', async t => {
    const s = scope(t)
    const a = await s.open({ gatewayId: 'tj.gw.a' })
    const b = await s.open({ gatewayId: 'tj.gw.b' })
    const n = 8
    for (let v = 1; v <= n; v++) await a.plans.create(planState('p', v, 'approved'))
    await Promise.all(Array.from({ length: n }, (_, i) =>
      (i % 2 === 0 ? a : b).plans.update(planState('p', i + 1, 'active', { activatedAt: `2026-02-0${i + 1}T00:00:00.000Z` }), 'approved')))
    const states = await a.plans.list()
    t.equal(states.filter(p => p.status === 'active').length, 1, 'one active')
    t.equal(states.filter(p => p.status === 'superseded').length, n - 1, 'every other superseded')
    t.equal((await b.plans.getActive())?.status, 'active')
  })

  t.test('changes reach another store instance within 1 s; unsubscribe stops them', async t => {
    const s = scope(t)
    const a = await s.open({ gatewayId: 'tj.gw.a' })
    const b = await s.open({ gatewayId: 'tj.gw.b' })
    const seen: StoreChange[] = []
    const off = b.subscribe(change => seen.push(change))
    const started = Date.now()
    await a.members.put(member('tj.psb'))
    await a.directories.put({ agency: 'tj.psb', version: 1, resources: [] })
    await a.disclosures.put({ agency: 'tj.psb', entries: [] })
    await a.plans.create(planState('p', 1, 'approved'))
    await a.plans.create(planState('p', 2, 'approved'))
    await a.plans.update(planState('p', 1, 'active'), 'approved')
    await a.plans.update(planState('p', 2, 'active'), 'approved')
    await eventually(1000, () => seen.length, n => n >= 8)
    t.ok(Date.now() - started < 1000, 'within 1 s')
    t.same(seen, [
      { kind: 'member', id: 'tj.psb' },
      { kind: 'directory', id: 'tj.psb' },
      { kind: 'disclosure', id: 'tj.psb' },
      { kind: 'plan', id: 'p', version: 1 },
      { kind: 'plan', id: 'p', version: 2 },
      { kind: 'plan', id: 'p', version: 1 },
      { kind: 'plan', id: 'p', version: 1 },
      { kind: 'plan', id: 'p', version: 2 }
    ], 'every change once, the superseded plan before the newly active one')
    off()
    await a.members.put(member('tj.mca'))
    const probe: StoreChange[] = []
    const off2 = b.subscribe(change => probe.push(change))
    await a.members.put(member('tj.hrss'))
    await eventually(1000, () => probe.length, n => n >= 1)
    t.equal(seen.length, 8, 'an unsubscribed listener hears nothing more')
    off2()
  })

  t.test('a subscriber that reconnects emits reload, and hears changes again', async t => {
    const s = scope(t)
    const a = await s.open({ gatewayId: 'tj.gw.a' })
    const b = await s.open({ gatewayId: 'tj.gw.b' })
    const seen: StoreChange[] = []
    b.subscribe(change => seen.push(change))
    const raw = await rawClient(t)
    const list = await raw.client('LIST') as string
    const line = list.split('\n').find(l => l.includes(`name=${s.prefix}tj.gw.b/changes`))
    const id = line?.match(/\bid=(\d+)/)?.[1]
    t.ok(id, 'the subscriber connection is named')
    await raw.client('KILL', 'ID', id as string)
    await eventually(3000, () => seen.length, n => n >= 1)
    t.same(seen[0], { kind: 'reload' })
    await a.members.put(member('tj.psb'))
    await eventually(1000, () => seen.length, n => n >= 2)
    t.same(seen[1], { kind: 'member', id: 'tj.psb' })
  })

  t.test('a listener that throws is reported and does not stop the others', async t => {
    const errors: Error[] = []
    const stores = await scope(t).open({ onError: err => errors.push(err) })
    const seen: StoreChange[] = []
    stores.subscribe(() => { throw new Error('listener bug') })
    stores.subscribe(change => seen.push(change))
    await stores.members.put(member('tj.psb'))
    await eventually(1000, () => seen.length, n => n === 1)
    t.ok(errors.some(e => e.message === 'listener bug'))
  })

  t.test('options are checked at open', async t => {
    const { openRedisStores } = await import('../src/index.js')
    await t.rejects(openRedisStores({ url: 'http://x', gatewayId: 'tj.gw.a' }), { code: 'GOVEX_ERR_BAD_REQUEST', message: /redis:\/\// })
    await t.rejects(openRedisStores({ url: 'redis://127.0.0.1:1', gatewayId: 'Not An Id' }), { code: 'GOVEX_ERR_BAD_REQUEST' })
    await t.rejects(openRedisStores({ url: 'redis://127.0.0.1:1', gatewayId: 'tj.gw.a', commandTimeoutMs: 5000 }), { code: 'GOVEX_ERR_BAD_REQUEST', message: /1000/ })
    await t.rejects(openRedisStores({ url: 'redis://127.0.0.1:1', gatewayId: 'tj.gw.a', prefix: 'a{b}' }), { code: 'GOVEX_ERR_BAD_REQUEST' })
    const started = Date.now()
    await t.rejects(openRedisStores({ url: 'redis://:secret@127.0.0.1:1', gatewayId: 'tj.gw.a', commandTimeoutMs: 300 }), { code: 'GOVEX_ERR_UNAVAILABLE', message: /\*\*\*/ })
    t.ok(Date.now() - started < 2000, 'an unreachable Redis is refused within 2 s')
  })
}
