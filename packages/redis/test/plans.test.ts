// The Redis plan store with large plans in mind: states handed out frozen and
// the same object while their stored JSON is unchanged, the JSON written byte
// for byte JSON.stringify(state) however much of it was reused, and the write
// script's status check: the statuses hash, the document's one "status" key, or
// the decoded document.
import t from 'tap'
import { activatePlan, createPlanState, revokePlan } from '@govex/core'
import type { Grant, PlanState } from '@govex/core'
import { needRedis, scope, rawClient } from './helpers/redis.js'
import { RedisPlanStore, keyLayout } from '../src/index.js'

function grants (n: number): Grant[] {
  return Array.from({ length: n }, (_, i) => ({ id: `g${i}`, consumer: `tj.c${i % 9}`, resource: 'tj.psb:household-registration', fields: ['name'], purposes: ['review'] }))
}

function draft (version: number, n = 200): PlanState {
  return createPlanState({ id: 'big', version, title: `Big "${version}" ✓`, validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-12-31T23:59:59Z', grants: grants(n) })
}

if (await needRedis(t)) {
  t.test('reads: frozen, and the same object while the stored JSON is unchanged; a change is read again', async t => {
    const s = scope(t)
    const stores = await s.open()
    const other = await s.open()
    await stores.plans.create(draft(1))
    const first = await other.plans.get('big') as PlanState
    t.ok(Object.isFrozen(first) && Object.isFrozen(first.grants[0]), 'deeply frozen')
    t.equal(await other.plans.get('big'), first, 'unchanged: the same object')
    t.equal(await other.plans.get('big', 1), first)
    const approved = { ...first, status: 'approved' as const }
    await stores.plans.update(approved, 'draft')
    const again = await other.plans.get('big') as PlanState
    t.not(again, first, 'changed behind it: read again')
    t.equal(again.status, 'approved')
    t.equal(await stores.plans.get('big'), approved, 'the writer remembers the state it wrote')
    await stores.plans.update(activatePlan(approved, '2026-02-01T00:00:00Z'), 'approved')
    const active = await other.plans.getActive() as PlanState
    t.equal(await other.plans.getActive(), active)
    t.equal(active.status, 'active')
    t.same((await other.plans.list()).map(p => p.status), ['active'])
    t.equal((await other.plans.list())[0], active, 'list answers remembered states too')
  })

  t.test('writes: every lifecycle step and the superseded plan stored as JSON.stringify of the state', async t => {
    const s = scope(t)
    const stores = await s.open()
    const raw = await rawClient(t)
    const stored = async (state: PlanState): Promise<string | null> => await raw.hget(`${s.prefix}{govex}:plans`, `${state.id}:${state.version}`)
    for (const version of [1, 2]) {
      const d = draft(version)
      await stores.plans.create(d)
      t.equal(await stored(d), JSON.stringify(d))
      const approved = { ...d, status: 'approved' as const, approvals: [{ approver: 'tj.gov', kid: 'k1', signature: 'sig', at: '2026-01-02T00:00:00Z' }] }
      await stores.plans.update(approved, 'draft')
      t.equal(await stored(approved), JSON.stringify(approved))
      // From a store that did not write it: the grants' bytes come from what it read.
      const fresh = await s.open()
      const read = await fresh.plans.get('big', version) as PlanState
      const active = activatePlan(read, `2026-0${version + 1}-01T00:00:00Z`)
      await fresh.plans.update(active, 'approved')
      t.equal(await stored(active), JSON.stringify(active), `v${version} active`)
      if (version === 2) {
        const superseded = await stores.plans.get('big', 1) as PlanState
        t.equal(superseded.status, 'superseded')
        t.equal(superseded.supersededAt, '2026-03-01T00:00:00Z')
        t.equal(await stored(superseded), JSON.stringify(superseded), 'the superseded plan')
      }
    }
    const revoked = revokePlan(await stores.plans.getActive() as PlanState, '2026-04-01T00:00:00Z')
    await stores.plans.update(revoked, 'active')
    t.equal(await stored(revoked), JSON.stringify(revoked))
    t.equal(await stores.plans.getActive(), undefined)
  })

  t.test('the scripts\' status check: one "status" key read in place; anything else decoded', async t => {
    const s = scope(t)
    const stores = await s.open()
    const raw = await rawClient(t)
    const key = `${s.prefix}{govex}:plans`
    // A grant carrying a "status" key (a document that bypassed validation): two candidates, decoded.
    const odd = { ...draft(1, 3), grants: [{ ...grants(1)[0], status: 'active' } as unknown as Grant] }
    await stores.plans.create(odd)
    const forget = async (field: string): Promise<void> => { await raw.hdel(`${key}:status`, field) }
    await forget('big:1') // as data written before the statuses hash existed
    await t.rejects(stores.plans.update({ ...odd, status: 'approved' }, 'approved'), { code: 'GOVEX_ERR_CONFLICT', message: /is draft, not approved/ })
    await forget('big:1')
    await stores.plans.update({ ...odd, status: 'approved' }, 'draft')
    // JSON laid out by another writer, with spaces: decoded.
    const spaced = draft(2, 3)
    await raw.hset(key, 'big:2', JSON.stringify(spaced, null, 1))
    await raw.hset(`${s.prefix}{govex}:plans:latest`, 'big', '2')
    await t.rejects(stores.plans.update({ ...spaced, status: 'active', activatedAt: '2026-02-01T00:00:00Z' }, 'approved'), { code: 'GOVEX_ERR_CONFLICT', message: /is draft, not approved/ })
    await stores.plans.update({ ...spaced, status: 'approved' }, 'draft')
    t.equal((await stores.plans.get('big', 2))?.status, 'approved')
    // A writer that does not keep the statuses hash (an older gateway) changed the document:
    // its recorded length no longer matches, so the document itself is read.
    const approved2 = await stores.plans.get('big', 2) as PlanState
    await raw.hset(key, 'big:2', JSON.stringify({ ...approved2, status: 'revoked', revokedAt: '2026-02-01T00:00:00Z' }))
    await t.rejects(stores.plans.update({ ...approved2, status: 'active', activatedAt: '2026-02-01T00:00:00Z' }, 'approved'), { code: 'GOVEX_ERR_CONFLICT', message: /is revoked, not approved/ })
    t.match(await raw.hget(`${key}:status`, 'big:1'), /^approved \d+ [0-9a-f]{16}$/, 'each write records <status> <bytes> <stamp>')
    // A title holding the characters "status":"active" is escaped in the JSON, so it is not taken for the key.
    const titled = { ...draft(3, 3), title: '"status":"active"' }
    await stores.plans.create(titled)
    await forget('big:3')
    await t.rejects(stores.plans.update({ ...titled, status: 'revoked' }, 'active'), { code: 'GOVEX_ERR_CONFLICT', message: /is draft, not active/ })
  })

  t.test('reads of an unchanged state fetch nothing but its statuses entry; a change is fetched once', async t => {
    const s = scope(t)
    const writer = await s.open()
    const raw = await rawClient(t)
    const fetched: string[] = []
    const multi = raw.multi.bind(raw)
    // A store on a client that counts the reads of documents (in MULTI) beside the probes.
    raw.multi = ((...args: unknown[]) => { fetched.push('document'); return (multi as (...a: unknown[]) => ReturnType<typeof raw.multi>)(...args) }) as typeof raw.multi
    const reader = new RedisPlanStore(raw, keyLayout(s.prefix))
    const d = draft(1)
    await writer.plans.create(d)
    const first = await reader.get('big')
    t.same(fetched, ['document'])
    t.equal(await reader.get('big'), first)
    t.equal(await reader.get('big', 1), first)
    t.same(fetched, ['document'], 'unchanged: the probe answered')
    await writer.plans.update({ ...d, status: 'approved' }, 'draft')
    await writer.plans.update(activatePlan({ ...d, status: 'approved' }, '2026-02-01T00:00:00Z'), 'approved')
    const active = await reader.getActive()
    t.equal(active?.status, 'active')
    t.equal(await reader.getActive(), active)
    t.equal(await reader.get('big'), active)
    t.same(fetched, ['document', 'document'], 'the change fetched once')
    // The writer knows what it wrote: no document read at all.
    const own = new RedisPlanStore(raw, keyLayout(s.prefix))
    const mine = draft(2)
    fetched.length = 0
    await own.create(mine)
    t.equal(await own.get('big'), mine)
    t.same(fetched, [], 'the state it wrote')
    // An entry that no longer matches the document (another writer, same stamp kept) is not trusted.
    await raw.hset(`${s.prefix}{govex}:plans`, 'big:2', JSON.stringify({ ...mine, title: 'changed behind it, longer' }))
    t.equal((await own.get('big'))?.title, 'changed behind it, longer')
  })

  t.test('latestWith: statuses read as the write script reads them; a remembered state in one round trip; a step between the script and the read is seen', async t => {
    const s = scope(t)
    const writer = await s.open()
    const raw = await rawClient(t)
    const key = `${s.prefix}{govex}:plans`
    for (const version of [1, 2, 3]) await writer.plans.create(draft(version, 3))
    // A writer that does not keep the statuses hash approved version 3: its entry no longer matches the document.
    const v3 = await writer.plans.get('big', 3) as PlanState
    await raw.hset(key, 'big:3', JSON.stringify({ ...v3, status: 'approved' }))
    const reader = new RedisPlanStore(raw, keyLayout(s.prefix))
    t.equal((await reader.latestWith('big', 'approved'))?.version, 3, 'the document, not the stale entry')
    const v2 = await reader.latestWith('big', 'draft')
    t.equal(v2?.version, 2)
    // Round trips on the reader's client: its scripts (the latestWith script has 2 keys) and document reads (MULTI).
    const trips: string[] = []
    let meanwhile = async (): Promise<void> => {}
    const evalsha = raw.evalsha.bind(raw) as (...args: unknown[]) => Promise<unknown>
    raw.evalsha = (async (...args: unknown[]) => {
      trips.push(args[1] === 2 ? 'latestWith' : 'probe')
      const answer = await evalsha(...args)
      const step = meanwhile
      meanwhile = async () => {}
      await step()
      return answer
    }) as typeof raw.evalsha
    const multi = raw.multi.bind(raw)
    raw.multi = ((...args: unknown[]) => { trips.push('document'); return (multi as (...a: unknown[]) => ReturnType<typeof raw.multi>)(...args) }) as typeof raw.multi
    t.equal(await reader.latestWith('big', 'draft'), v2, 'remembered: the same object')
    t.same(trips, ['latestWith'], 'in one round trip: the script probes the version it names')
    // Another gateway approves version 2 after the script named it, before a reader that does not remember it reads it: look again.
    meanwhile = async () => { await writer.plans.update({ ...(await writer.plans.get('big', 2) as PlanState), status: 'approved' }, 'draft') }
    trips.length = 0
    const found = await new RedisPlanStore(raw, keyLayout(s.prefix)).latestWith('big', 'draft')
    t.same(trips, ['latestWith', 'document', 'latestWith', 'document'], 'read, found approved meanwhile, looked again')
    t.equal(found?.version, 1, 'the draft below the one approved meanwhile')
    t.equal(found?.status, 'draft')
  })

  t.test('getActive: the key naming a state that is not active is answered as stored', async t => {
    const s = scope(t)
    const stores = await s.open()
    const raw = await rawClient(t)
    await stores.plans.create(draft(1, 2))
    await raw.set(`${s.prefix}{govex}:plans:active`, 'big:1')
    t.equal((await stores.plans.getActive())?.status, 'draft', 'what the key names, as the script answered before')
    await raw.set(`${s.prefix}{govex}:plans:active`, 'big:9')
    t.equal(await stores.plans.getActive(), undefined, 'a key naming nothing')
  })
}
