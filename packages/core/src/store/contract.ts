// The storage contract as a test suite (STYLE.md: one contract, several
// implementations): every embedded store and @govex/redis run it unchanged.
// It relies on the interfaces of ./types.ts only. `open` must give empty
// stores of their own (a fresh folder, a fresh key prefix) on every call.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import { canonicalJson, digestOf } from '../canonical.js'
import type { Member } from '../schemas/member.js'
import type { Directory } from '../schemas/directory.js'
import type { DisclosureCatalog } from '../schemas/disclosure.js'
import { planDocument, type PlanState, type PlanStatus } from '../schemas/plan.js'
import type { StoreChange, Stores } from './types.js'

export { auditLogContract, exchangeEntry, adminEntry } from './audit-contract.js'
export * from './audit-tamper.js'

export interface StoreContractOptions {
  /**
   * Opens again, after close, the stores the latest `open()` gave: enables the
   * persistence checks. Omit it for stores that forget (memory).
   */
  reopen?: () => Promise<Stores>
}

const MINUTE = 60_000
const DAY = 86_400_000

/** Registers the contract as subtests of `t`; resolves when they are done. */
export function storeContract (t: Test, name: string, open: () => Promise<Stores>, options: StoreContractOptions = {}): Promise<void> {
  const opened = async (t: Test): Promise<Stores> => {
    const stores = await open()
    t.teardown(() => stores.close())
    return stores
  }

  return t.test(`${name} store contract`, async t => {
    t.test('members: put, get, list, replace', async t => {
      const { members } = await opened(t)
      t.equal(await members.get('tj.psb'), undefined, 'unknown member')
      t.same(await members.list(), [], 'empty registry')
      const psb = member('tj.psb', 'Public Security Bureau')
      const mca = member('tj.mca', 'Civil Affairs Bureau')
      await members.put(psb)
      await members.put(mca)
      t.same(await members.get('tj.psb'), psb)
      t.same(byKey(await members.list(), m => m.id), [mca, psb])
      const renamed = { ...psb, name: 'Tianjin Public Security Bureau', roles: ['agency', 'auditor'] as Member['roles'] }
      await members.put(renamed)
      t.same(await members.get('tj.psb'), renamed, 'replaced')
      t.equal((await members.list()).length, 2, 'replacing adds nothing')
      const copy = await members.get('tj.psb') as Member
      copy.name = 'changed by a caller'
      t.equal((await members.get('tj.psb'))?.name, renamed.name, 'a caller cannot change the stored member')
      t.strictSame(await members.get('tj.psb'), renamed, 'stored exactly as put')
    })

    t.test('directories: put, get, list, replace', async t => {
      const { directories } = await opened(t)
      t.equal(await directories.get('tj.psb'), undefined)
      t.same(await directories.list(), [])
      const v1 = directory('tj.psb', 1)
      await directories.put(v1)
      await directories.put(directory('tj.mca', 1))
      t.strictSame(await directories.get('tj.psb'), v1)
      const v2 = directory('tj.psb', 2)
      await directories.put(v2)
      t.strictSame(await directories.get('tj.psb'), v2, 'the current directory is the latest put')
      t.same(byKey(await directories.list(), d => d.agency), [directory('tj.mca', 1), v2])
    })

    t.test('disclosures: put, get, list, replace', async t => {
      const { disclosures } = await opened(t)
      t.equal(await disclosures.get('tj.psb'), undefined)
      t.same(await disclosures.list(), [])
      const first = disclosure('tj.psb', 'Household registration transfer')
      await disclosures.put(first)
      await disclosures.put(disclosure('tj.mca', 'Minimum living guarantee'))
      t.strictSame(await disclosures.get('tj.psb'), first)
      const second = disclosure('tj.psb', 'Residence permits')
      await disclosures.put(second)
      t.strictSame(await disclosures.get('tj.psb'), second)
      t.same(byKey(await disclosures.list(), d => d.agency), [disclosure('tj.mca', 'Minimum living guarantee'), second])
    })

    t.test('plans: create, get latest or a version, list', async t => {
      const { plans } = await opened(t)
      t.equal(await plans.get('tj-plan'), undefined)
      t.equal(await plans.getActive(), undefined)
      t.same(await plans.list(), [])
      const v1 = planState('tj-plan', 1)
      await plans.create(v1)
      t.strictSame(await plans.get('tj-plan'), v1)
      t.strictSame(await plans.get('tj-plan', 1), v1)
      await t.rejects(plans.create(planState('tj-plan', 1, 'approved')), { code: 'GOVEX_ERR_CONFLICT' }, 'an existing (id, version)')
      t.strictSame(await plans.get('tj-plan', 1), v1, 'a refused create changes nothing')
      const v2 = planState('tj-plan', 2)
      const v10 = planState('tj-plan', 10)
      await plans.create(v10)
      await plans.create(v2)
      const pilot = planState('a-pilot', 1)
      await plans.create(pilot)
      t.strictSame(await plans.get('tj-plan'), v10, 'latest version (numerically)')
      t.strictSame(await plans.get('tj-plan', 2), v2)
      t.equal(await plans.get('tj-plan', 3), undefined, 'unknown version')
      t.equal(await plans.get('tj-other'), undefined, 'unknown plan')
      t.strictSame(await plans.list(), [pilot, v1, v2, v10], 'ordered by id, then version')
    })

    t.test('plans: update is a compare-and-set on the status', async t => {
      const { plans } = await opened(t)
      await plans.create(planState('tj-plan', 1))
      const approved = planState('tj-plan', 1, 'approved', { approvals: [approval()] })
      await plans.update(approved, 'draft')
      t.strictSame(await plans.get('tj-plan', 1), approved)
      await t.rejects(plans.update(planState('tj-plan', 1, 'revoked'), 'draft'), { code: 'GOVEX_ERR_CONFLICT' }, 'stored status is not the expected one')
      t.strictSame(await plans.get('tj-plan', 1), approved, 'a refused update changes nothing')
      await t.rejects(plans.update(planState('tj-plan', 9, 'approved'), 'draft'), { code: 'GOVEX_ERR_NOT_FOUND' }, 'unknown version')
      await t.rejects(plans.update(planState('tj-none', 1, 'approved'), 'draft'), { code: 'GOVEX_ERR_NOT_FOUND' }, 'unknown plan')

      const racers = await Promise.allSettled([1, 2, 3].map(() => plans.update(planState('tj-plan', 1, 'revoked', { revokedAt: at(3) }), 'approved')))
      t.equal(racers.filter(r => r.status === 'fulfilled').length, 1, 'of concurrent updates from the same status, one wins')
      t.equal((await plans.get('tj-plan', 1))?.status, 'revoked')

      await plans.create(planState('tj-plan', 2))
      const racing = await Promise.allSettled([1, 2].map(() => plans.create(planState('tj-plan', 3))))
      t.equal(racing.filter(r => r.status === 'fulfilled').length, 1, 'of concurrent creates of one (id, version), one wins')
    })

    t.test('plans: activation supersedes the active plan atomically', async t => {
      const { plans } = await opened(t)
      const first = await activate(plans, 'tj-plan', 1, at(1))
      t.strictSame(await plans.getActive(), first)

      await plans.create(planState('tj-plan', 2))
      t.strictSame(await plans.getActive(), first, 'a new draft changes nothing')
      const second = await activate(plans, 'tj-plan', 2, at(2), false)
      t.strictSame(await plans.getActive(), second)
      t.strictSame(await plans.get('tj-plan', 1), { ...first, status: 'superseded', supersededAt: at(2) }, 'the previous one is superseded as of the activation')

      const other = await activate(plans, 'tj-other-plan', 1, at(3))
      t.strictSame(await plans.getActive(), other, 'another plan id supersedes too')
      t.equal((await plans.get('tj-plan', 2))?.status, 'superseded')
      t.same(statuses(await plans.list()), { 'tj-other-plan@1': 'active', 'tj-plan@1': 'superseded', 'tj-plan@2': 'superseded' })

      const revoked = { ...other, status: 'revoked' as const, revokedAt: at(4) }
      await plans.update(revoked, 'active')
      t.equal(await plans.getActive(), undefined, 'revoking leaves no active plan')
      t.strictSame(await plans.get('tj-other-plan', 1), revoked)

      // Two activations at once: both succeed, one after the other, and exactly one plan ends up active.
      for (const id of ['tj-race-a', 'tj-race-b']) {
        await plans.create(planState(id, 1))
        await plans.update(planState(id, 1, 'approved'), 'draft')
      }
      await Promise.all(['tj-race-a', 'tj-race-b'].map((id, i) => plans.update(planState(id, 1, 'active', { activatedAt: at(5 + i) }), 'approved')))
      const active = (await plans.list()).filter(s => s.status === 'active')
      t.equal(active.length, 1, 'never two active plans')
      t.equal((await plans.getActive())?.id, active[0]?.id)
      const loser = active[0]?.id === 'tj-race-a' ? 'tj-race-b' : 'tj-race-a'
      t.equal((await plans.get(loser, 1))?.status, 'superseded')
    })

    t.test('plans: latestWith is the highest version with a status', async t => {
      const { plans } = await opened(t)
      t.equal(await plans.latestWith('tj-plan', 'draft'), undefined, 'unknown plan')
      const v1 = await activate(plans, 'tj-plan', 1, at(1))
      // versions need not be consecutive, and compare as numbers: 9 < 10 < 12
      const v9 = planState('tj-plan', 9, 'approved', { approvals: [approval()] })
      await plans.create(planState('tj-plan', 9))
      await plans.update(v9, 'draft')
      const v10 = planState('tj-plan', 10)
      const v12 = planState('tj-plan', 12)
      await plans.create(v12)
      await plans.create(v10)
      await plans.create(planState('tj-plan-b', 99))
      await plans.create(planState('tj', 50))
      t.strictSame(await plans.latestWith('tj-plan', 'draft'), v12, 'the latest draft')
      t.strictSame(await plans.latestWith('tj-plan', 'approved'), v9, 'an approved version below later drafts')
      t.strictSame(await plans.latestWith('tj-plan', 'active'), v1)
      t.equal(await plans.latestWith('tj-plan', 'revoked'), undefined, 'no version with that status')
      t.equal(await plans.latestWith('tj-pla', 'draft'), undefined, 'ids are matched whole, not by prefix')
      t.strictSame(await plans.latestWith('tj', 'draft'), planState('tj', 50), 'another id\'s versions are not its own')
      await plans.update(planState('tj-plan', 12, 'approved', { approvals: [approval()] }), 'draft')
      t.strictSame(await plans.latestWith('tj-plan', 'draft'), v10, 'a step moves the answer')
      t.equal((await plans.latestWith('tj-plan', 'approved'))?.version, 12)
    })

    t.test('replay guard: claim, replay, release, window', async t => {
      const { replay } = await opened(t)
      const id = randomUUID()
      t.equal(await replay.claim(id, 60), true, 'first claim')
      t.equal(await replay.claim(id, 60), false, 'a replay')
      t.equal(await replay.claim(randomUUID(), 60), true, 'another id is independent')
      await replay.release(id)
      t.equal(await replay.claim(id, 60), true, 'a released id can be claimed again')
      t.equal(await replay.claim(id, 60), false)
      await replay.release(randomUUID())
      // one id in any spelling (UUIDs are case-insensitive), as admission takes it
      t.equal(await replay.claim(id.toUpperCase(), 60), false, 'the same id upper-cased is a replay')
      await replay.release(id.toUpperCase())
      t.equal(await replay.claim(id, 60), true, 'released in any spelling')

      const racing = randomUUID()
      const claims = await Promise.all([1, 2, 3, 4, 5].map(() => replay.claim(racing, 60)))
      t.equal(claims.filter(Boolean).length, 1, 'of concurrent claims, one wins')

      const short = randomUUID()
      t.equal(await replay.claim(short, 1), true)
      t.equal(await replay.claim(short, 1), false, 'within the window')
      await sleep(1100)
      t.equal(await replay.claim(short, 1), true, 'after the window')
      t.equal(await replay.claim(id, 60), false, 'a longer window still holds')
    })

    t.test('admission: the envelope id and the quota spent together, or neither', async t => {
      const stores = await opened(t)
      const noon = day0() + 12 * 60 * MINUTE
      const key = 'grant-' + randomUUID()
      const quota = { key, limits: { perMinute: 2 }, nowMs: noon }
      const first = randomUUID()
      t.same(await stores.admit({ id: first, windowS: 60, quota }), { ok: true }, 'admitted')
      t.same(await stores.admit({ id: first, windowS: 60, quota }), { ok: false, reason: 'replay' }, 'a replay')
      t.same(await stores.admit({ id: first.toUpperCase(), windowS: 60, quota }), { ok: false, reason: 'replay' }, 'in any spelling: UUIDs are case-insensitive')
      t.equal(await stores.replay.claim(first, 60), false, 'the id is used for the replay guard too')
      t.equal(await stores.replay.claim(first.toUpperCase(), 60), false, 'and the guard sees it in any spelling')
      const claimed = randomUUID()
      t.equal(await stores.replay.claim(claimed.toUpperCase(), 60), true)
      t.same(await stores.admit({ id: claimed, windowS: 60 }), { ok: false, reason: 'replay' }, 'admission sees a claim made in another spelling')
      // the replay spent no quota: one request of two is left
      t.same(await stores.admit({ id: randomUUID(), windowS: 60, quota }), { ok: true }, 'the replay counted nothing')
      const refused = randomUUID()
      const decision = await stores.admit({ id: refused, windowS: 60, quota })
      t.match(decision, { ok: false, reason: 'quota', window: 'minute' }, 'the quota is spent')
      t.ok(!decision.ok && decision.reason === 'quota' && Number.isInteger(decision.retryAfterS) && decision.retryAfterS >= 1, 'retryAfterS in whole seconds')
      t.same(await stores.admit({ id: refused, windowS: 60, quota: { ...quota, nowMs: noon + 10 * MINUTE } }), { ok: true }, 'the refused id was not used')
      t.same(await stores.admit({ id: randomUUID(), windowS: 60 }), { ok: true }, 'no quota: the id alone')
      t.same(await stores.admit({ id: randomUUID(), windowS: 60, quota: { key, limits: {}, nowMs: noon } }), { ok: true }, 'a quota without limits is unlimited')

      const racing = randomUUID()
      const raced = await Promise.all(Array.from({ length: 5 }, () => stores.admit({ id: racing, windowS: 60, quota: { key: 'grant-' + randomUUID(), limits: { perDay: 10 }, nowMs: noon } })))
      t.equal(raced.filter(d => d.ok).length, 1, 'of concurrent admissions of one id, one wins')
      const crowd = 'grant-' + randomUUID()
      const spent = await Promise.all(Array.from({ length: 8 }, () => stores.admit({ id: randomUUID(), windowS: 60, quota: { key: crowd, limits: { perDay: 3 }, nowMs: noon } })))
      t.equal(spent.filter(d => d.ok).length, 3, 'concurrent admissions never exceed the quota')

      const short = randomUUID()
      t.same(await stores.admit({ id: short, windowS: 1 }), { ok: true })
      await sleep(1100)
      t.same(await stores.admit({ id: short, windowS: 1 }), { ok: true }, 'after its window an id is free again')
    })

    t.test('quota: per minute', async t => {
      const { quota } = await opened(t)
      const key = 'grant-' + randomUUID()
      const noon = day0() + 12 * 60 * MINUTE
      const limits = { perMinute: 3 }
      for (let i = 0; i < 3; i++) t.same(await quota.consume(key, limits, noon + i * 1000), { ok: true }, `request ${i + 1} of 3`)
      const refused = await quota.consume(key, limits, noon + 3000)
      t.match(refused, { ok: false, window: 'minute' }, 'the fourth in the minute')
      const retryAfterS = refused.ok ? 0 : refused.retryAfterS
      t.ok(Number.isInteger(retryAfterS) && retryAfterS >= 1 && retryAfterS <= 120, `retryAfterS in whole seconds (${retryAfterS})`)
      t.equal((await quota.consume(key, limits, noon + 4000)).ok, false, 'still spent')
      t.same(await quota.consume(key, limits, noon + 3000 + retryAfterS * 1000), { ok: true }, 'retryAfterS tells the truth')
      for (let i = 0; i < 3; i++) t.same(await quota.consume(key, limits, noon + 10 * MINUTE + i), { ok: true }, 'a quiet window later, the full quota again')

      const other = 'grant-' + randomUUID()
      t.same(await quota.consume(other, limits, noon + 3000), { ok: true }, 'keys are independent')
      t.same(await quota.consume('grant-' + randomUUID(), {}, noon), { ok: true }, 'no limits: unlimited')

      const racing = 'grant-' + randomUUID()
      const decisions = await Promise.all(Array.from({ length: 10 }, () => quota.consume(racing, { perMinute: 5 }, noon)))
      t.equal(decisions.filter(d => d.ok).length, 5, 'concurrent requests never exceed the quota')
    })

    t.test('quota: per UTC day, and refused requests count nothing', async t => {
      const { quota } = await opened(t)
      const start = day0()
      const noon = start + 12 * 60 * MINUTE

      // A request refused by the minute window must not count towards the day.
      const key = 'grant-' + randomUUID()
      const limits = { perMinute: 2, perDay: 3 }
      t.same(await quota.consume(key, limits, noon), { ok: true })
      t.same(await quota.consume(key, limits, noon + 1000), { ok: true })
      for (let i = 0; i < 5; i++) t.match(await quota.consume(key, limits, noon + 2000 + i * 1000), { ok: false, window: 'minute' })
      t.same(await quota.consume(key, limits, noon + 3 * MINUTE), { ok: true }, 'the day still has one left')
      const now = noon + 3 * MINUTE + 1000
      t.same(await quota.consume(key, limits, now), { ok: false, window: 'day', retryAfterS: Math.ceil((start + DAY - now) / 1000) }, 'spent until the next UTC midnight')
      t.same(await quota.consume(key, limits, start + DAY), { ok: true }, 'a new UTC day')

      // A request refused by the day must not count towards the minute.
      const late = 'grant-' + randomUUID()
      const tight = { perMinute: 2, perDay: 1 }
      const midnight = start + DAY
      t.same(await quota.consume(late, tight, midnight - 30_000), { ok: true })
      for (let i = 0; i < 5; i++) t.match(await quota.consume(late, tight, midnight - 29_000 + i * 1000), { ok: false, window: 'day' })
      t.same(await quota.consume(late, tight, midnight + 1000), { ok: true }, 'the refused ones left no trace in the minute')

      const daily = 'grant-' + randomUUID()
      t.same(await quota.consume(daily, { perDay: 2 }, noon), { ok: true })
      t.same(await quota.consume(daily, { perDay: 2 }, noon + 5 * 60 * MINUTE), { ok: true })
      t.match(await quota.consume(daily, { perDay: 2 }, start + DAY - 1), { ok: false, window: 'day', retryAfterS: 1 }, 'at least one second')
    })

    t.test('subscribe: every change is told', async t => {
      const stores = await opened(t)
      const seen = watch(stores)
      const other = watch(stores)
      await stores.members.put(member('tj.psb', 'Public Security Bureau'))
      t.ok(await seen.until({ kind: 'member', id: 'tj.psb' }), 'member put')
      await stores.directories.put(directory('tj.psb', 1))
      t.ok(await seen.until({ kind: 'directory', id: 'tj.psb' }), 'directory put')
      await stores.disclosures.put(disclosure('tj.psb', 'Residence permits'))
      t.ok(await seen.until({ kind: 'disclosure', id: 'tj.psb' }), 'disclosure put')
      await stores.plans.create(planState('tj-plan', 1))
      t.ok(await seen.until({ kind: 'plan', id: 'tj-plan', version: 1 }), 'plan create')
      seen.clear()
      await activate(stores.plans, 'tj-plan', 1, at(1), false)
      t.ok(await seen.until({ kind: 'plan', id: 'tj-plan', version: 1 }), 'plan update')
      await activate(stores.plans, 'tj-plan', 2, at(2))
      // Changes may be told later (shared stores): a marker drains what is on its way.
      await stores.members.put(member('tj.marker', 'Marker'))
      t.ok(await seen.until({ kind: 'member', id: 'tj.marker' }), 'told in order')
      seen.clear()
      await stores.plans.update(planState('tj-plan', 2, 'revoked', { activatedAt: at(2), revokedAt: at(3) }), 'active')
      t.ok(await seen.until({ kind: 'plan', id: 'tj-plan', version: 2 }), 'plan revoke')

      seen.stop()
      const count = seen.changes.length
      await stores.members.put(member('tj.mca', 'Civil Affairs Bureau'))
      t.ok(await other.until({ kind: 'member', id: 'tj.mca' }), 'other listeners still hear')
      await sleep(10)
      t.equal(seen.changes.length, count, 'an unsubscribed listener hears nothing more')
      other.stop()
    })

    t.test('ping, close', async t => {
      const stores = await open()
      await t.resolves(stores.ping(), 'open stores answer')
      await stores.close()
      await t.rejects(stores.ping(), { code: 'GOVEX_ERR_UNAVAILABLE' }, 'closed stores do not')
      await t.resolves(stores.close(), 'closing twice is harmless')
    })

    const reopen = options.reopen
    if (reopen !== undefined) {
      t.test('everything survives a reopen', async t => {
        const stores = await open()
        const members = [member('tj.mca', 'Civil Affairs Bureau'), member('tj.psb', 'Public Security Bureau')]
        for (const m of members) await stores.members.put(m)
        await stores.directories.put(directory('tj.psb', 1))
        await stores.directories.put(directory('tj.psb', 2))
        await stores.disclosures.put(disclosure('tj.psb', 'Residence permits'))
        await activate(stores.plans, 'tj-plan', 1, at(1))
        const active = await activate(stores.plans, 'tj-plan', 2, at(2))
        await stores.plans.create(planState('tj-plan', 3))
        const plans = await stores.plans.list()
        await stores.close()

        const again = await reopen()
        t.teardown(() => again.close())
        t.strictSame(byKey(await again.members.list(), m => m.id), members)
        t.strictSame(await again.directories.list(), [directory('tj.psb', 2)])
        t.strictSame(await again.disclosures.list(), [disclosure('tj.psb', 'Residence permits')])
        t.strictSame(await again.plans.list(), plans)
        t.strictSame(await again.plans.getActive(), active)
        await t.rejects(again.plans.create(planState('tj-plan', 3)), { code: 'GOVEX_ERR_CONFLICT' }, 'existing versions still conflict')
        await again.ping()
      })
    }
  }).then(() => {})
}

function member (id: string, name: string): Member {
  return {
    id,
    name,
    roles: ['agency'],
    keys: [{ kid: '2026-01', kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) }],
    contact: { office: `${name} IT office`, email: `it@${id}.example` }
  }
}

function directory (agency: string, version: number): Directory {
  return {
    agency,
    version,
    resources: [{
      id: `${agency}:records-v${version}`,
      name: `Records, version ${version}`,
      description: 'Records kept by the agency',
      classification: 'departmental',
      securityLevel: 'internal',
      sharing: { type: 'unconditional' },
      items: [{ name: 'name', type: 'string' }, { name: 'idNumber', type: 'string', sensitive: true }],
      endpoint: { url: `http://127.0.0.1:4001/${agency}/records`, timeoutMs: 2000 }
    }]
  }
}

function disclosure (agency: string, title: string): DisclosureCatalog {
  return { agency, entries: [{ category: 'licensing-matters', title, publishedAt: '2026-03-01' }] }
}

function planState (id: string, version: number, status: PlanStatus = 'draft', extra: Partial<PlanState> = {}): PlanState {
  const document = {
    id,
    version,
    title: `Sharing plan ${id}, version ${version}`,
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2026-12-31T23:59:59Z',
    grants: [{
      id: 'mca-household',
      consumer: 'tj.mca',
      resource: 'tj.psb:household-registration',
      fields: ['name', 'householdAddress'],
      purposes: ['minimum-living-guarantee-review'],
      quota: { perMinute: 600, perDay: 50000 }
    }]
  }
  return { ...document, status, digest: digestOf(planDocument(document)), approvals: [], activatedAt: null, ...extra }
}

function approval (): PlanState['approvals'][number] {
  return { approver: 'tj.gov', kid: '2026-01', signature: 'eyJhbGciOiJFZERTQSJ9..c2lnbmF0dXJl', at: at(0) }
}

/** draft -> approved -> active, creating the draft first when `create`. */
async function activate (plans: Stores['plans'], id: string, version: number, activatedAt: string, create = true): Promise<PlanState> {
  if (create) await plans.create(planState(id, version))
  await plans.update(planState(id, version, 'approved', { approvals: [approval()] }), 'draft')
  const active = planState(id, version, 'active', { approvals: [approval()], activatedAt })
  await plans.update(active, 'approved')
  return active
}

function at (hour: number): string {
  return new Date(Date.UTC(2026, 1, 1, hour)).toISOString()
}

function statuses (states: PlanState[]): Record<string, PlanStatus> {
  return Object.fromEntries(states.map(s => [`${s.id}@${s.version}`, s.status]))
}

function byKey<T> (items: T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)
}

/** Midnight UTC, two days ahead: quota times in the future suit stores that expire keys by the clock. */
function day0 (): number {
  return (Math.floor(Date.now() / DAY) + 2) * DAY
}

interface Watcher {
  changes: StoreChange[]
  /** resolves true once `change` was told (within 2 s: shared stores tell within 1 s) */
  until (change: StoreChange): Promise<boolean>
  clear (): void
  stop (): void
}

function watch (stores: Stores): Watcher {
  const changes: StoreChange[] = []
  let wake = (): void => {}
  const stop = stores.subscribe(change => {
    changes.push(change)
    wake()
  })
  const has = (wanted: StoreChange): boolean => changes.some(c => canonicalJson(c) === canonicalJson(wanted))
  return {
    changes,
    async until (wanted) {
      const deadline = Date.now() + 2000
      while (!has(wanted)) {
        const left = deadline - Date.now()
        if (left <= 0) return false
        await new Promise<void>(resolve => {
          const timer = setTimeout(resolve, left)
          wake = () => { clearTimeout(timer); resolve() }
        })
      }
      return true
    },
    clear () { changes.length = 0 },
    stop
  }
}
