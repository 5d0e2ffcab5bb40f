// The file stores beyond the shared contract: atomic writes, what open() loads,
// refuses and repairs, and illegal ids.
import t from 'tap'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FileMemberRegistry } from '../src/store/file/members.js'
import { FileDirectoryStore } from '../src/store/file/directories.js'
import { FileDisclosureStore } from '../src/store/file/disclosures.js'
import { FilePlanStore, isPlanId } from '../src/store/file/plans.js'
import { ensureFolder, readFolder, writeFileAtomic } from '../src/store/file/atomic.js'
import { openFileStores } from '../src/store/open.js'
import type { Member } from '../src/schemas/member.js'
import type { PlanState, PlanStatus } from '../src/schemas/plan.js'

const member = (id: string, name = 'Agency'): Member => ({ id, name, roles: ['agency'], keys: [{ kid: 'k1', kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) }] })

function plan (id: string, version: number, status: PlanStatus, activatedAt: string | null = null): PlanState {
  return { id, version, title: 'Plan', validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-12-31T23:59:59Z', grants: [], status, digest: 'sha256:' + '1'.repeat(64), approvals: [], activatedAt }
}

function writeJson (path: string, value: unknown): void {
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, JSON.stringify(value))
}

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'))

t.test('documents land as <kind>/<key>.json, with no temp files left', async t => {
  const dir = t.testdir()
  const stores = await openFileStores({ dir, gatewayId: 'tj.gw.test' })
  t.teardown(() => stores.close())
  for (let i = 0; i < 5; i++) await stores.members.put(member('tj.psb', `PSB ${i}`))
  await stores.directories.put({ agency: 'tj.psb', version: 1, resources: [] })
  await stores.disclosures.put({ agency: 'tj.psb', entries: [] })
  await stores.plans.create(plan('tj-plan', 1, 'draft'))
  await Promise.all([stores.members.put(member('tj.a')), stores.members.put(member('tj.b')), stores.members.put(member('tj.a', 'A again'))])
  t.same(readJson(join(dir, 'members', 'tj.psb.json')), member('tj.psb', 'PSB 4'))
  t.same(readJson(join(dir, 'members', 'tj.a.json')), member('tj.a', 'A again'), 'concurrent writes land in call order')
  t.same(readJson(join(dir, 'directories', 'tj.psb.json')), { agency: 'tj.psb', version: 1, resources: [] })
  t.same(readJson(join(dir, 'disclosures', 'tj.psb.json')), { agency: 'tj.psb', entries: [] })
  t.same(readJson(join(dir, 'plans', 'tj-plan', '1.json')), plan('tj-plan', 1, 'draft'))
  t.same(readdirSync(join(dir, 'members')).sort(), ['tj.a.json', 'tj.b.json', 'tj.psb.json'])
  for (const folder of ['directories', 'disclosures', join('plans', 'tj-plan')]) {
    t.same(readdirSync(join(dir, folder)).filter(name => !name.endsWith('.json')), [], `${folder}: only documents`)
  }
})

t.test('reads come from memory: a file changed behind the store is not seen until reopen', async t => {
  const dir = t.testdir()
  const members = await FileMemberRegistry.open({ dir })
  await members.put(member('tj.psb', 'Before'))
  writeJson(join(dir, 'members', 'tj.psb.json'), member('tj.psb', 'Behind'))
  t.equal((await members.get('tj.psb'))?.name, 'Before')
  t.equal((await (await FileMemberRegistry.open({ dir })).get('tj.psb'))?.name, 'Behind')
})

t.test('plans: states read back from the files are frozen, and the file is the state', async t => {
  const dir = t.testdir()
  const plans = await FilePlanStore.open({ dir })
  await plans.create(plan('tj-plan', 1, 'approved'))
  await plans.update({ ...plan('tj-plan', 1, 'active'), activatedAt: '2026-02-01T00:00:00.000Z' }, 'approved')
  const active = await plans.getActive() as PlanState
  t.ok(Object.isFrozen(active) && Object.isFrozen(active.approvals))
  t.same(readJson(join(dir, 'plans', 'tj-plan', '1.json')), active)
  const again = await FilePlanStore.open({ dir })
  const reopened = await again.getActive() as PlanState
  t.same(reopened, active)
  t.ok(Object.isFrozen(reopened) && Object.isFrozen(reopened.grants))
  t.equal(await again.get('tj-plan', 1), reopened, 'one object, no parse per read')
})

t.test('illegal ids are refused before they can name a path', async t => {
  const dir = t.testdir()
  const stores = await openFileStores({ dir, gatewayId: 'tj.gw.test' })
  t.teardown(() => stores.close())
  for (const id of ['../evil', 'tj/psb', '..', 'TJ.PSB', '', 'a'.repeat(129)]) {
    await t.rejects(stores.members.put(member(id)), { code: 'GOVEX_ERR_BAD_REQUEST' }, `member ${JSON.stringify(id)}`)
    t.equal(await stores.members.get(id), undefined, 'nothing stored')
  }
  await t.rejects(stores.directories.put({ agency: '../../etc', version: 1, resources: [] }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  await t.rejects(stores.disclosures.put({ agency: 'x/../../y', entries: [] }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  await t.rejects(stores.plans.create(plan('../plan', 1, 'draft')), { code: 'GOVEX_ERR_BAD_REQUEST', message: /plan id/ })
  await t.rejects(stores.plans.create(plan('.hidden', 1, 'draft')), { code: 'GOVEX_ERR_BAD_REQUEST' })
  await t.rejects(stores.plans.create(plan('tj-plan', 0, 'draft')), { code: 'GOVEX_ERR_BAD_REQUEST', message: /version/ })
  await t.rejects(stores.plans.create(plan('tj-plan', 1.5, 'draft')), { code: 'GOVEX_ERR_BAD_REQUEST', message: /version/ })
  t.same(await stores.plans.list(), [], 'no plan stored')
  t.same(readdirSync(dir).sort(), ['audit', 'directories', 'disclosures', 'govex.lock', 'members', 'plans'].filter(name => existsSync(join(dir, name))).sort())
  t.notOk(existsSync(join(dir, '..', 'evil.json')))
  t.ok(isPlanId('tj-sharing-plan.2026_a'))
  t.notOk(isPlanId('a'.repeat(129)))
})

t.test('open: loads what is there, skips what it never writes, removes crash leftovers', async t => {
  const dir = t.testdir({
    members: {
      'tj.psb.json': JSON.stringify(member('tj.psb')),
      'README.txt': 'not a document',
      'Upper.json': '{ "id": "Upper" }',
      '.tj.mca.json.0a1b2c.tmp': '{"id":"tj.mca","na',
      'nested.json': {}
    },
    directories: { 'tj.psb.json': JSON.stringify({ agency: 'tj.psb', version: 3, resources: [] }) },
    disclosures: { 'tj.psb.json': JSON.stringify({ agency: 'tj.psb', entries: [] }) },
    plans: {
      'tj-plan': {
        '1.json': JSON.stringify(plan('tj-plan', 1, 'draft')),
        '2.json': JSON.stringify(plan('tj-plan', 2, 'active', '2026-02-01T00:00:00.000Z')),
        '01.json': 'ignored',
        'latest.json': 'ignored',
        'sub': {},
        '.3.json.ffee.tmp': 'torn'
      },
      'Bad Id': { '1.json': 'ignored' },
      'stray.json': 'ignored'
    }
  })
  const stores = await openFileStores({ dir, gatewayId: 'tj.gw.test' })
  t.teardown(() => stores.close())
  t.same(await stores.members.list(), [member('tj.psb')])
  t.equal((await stores.directories.get('tj.psb'))?.version, 3)
  t.same(await stores.disclosures.list(), [{ agency: 'tj.psb', entries: [] }])
  t.same((await stores.plans.list()).map(p => `${p.id}@${p.version}:${p.status}`), ['tj-plan@1:draft', 'tj-plan@2:active'])
  t.equal((await stores.plans.getActive())?.version, 2)
  t.notOk(existsSync(join(dir, 'members', '.tj.mca.json.0a1b2c.tmp')), 'temp file removed')
  t.notOk(existsSync(join(dir, 'plans', 'tj-plan', '.3.json.ffee.tmp')), 'temp file removed')
  t.ok(existsSync(join(dir, 'members', 'README.txt')), 'other files are left alone')
})

t.test('open: refuses documents it cannot trust, naming the file', async t => {
  const cases: Array<[string, Parameters<typeof t.testdir>[0], RegExp]> = [
    ['not JSON', { members: { 'tj.psb.json': '{"id": "tj.psb",' } }, /tj\.psb\.json is not valid JSON/],
    ['not an object', { directories: { 'tj.psb.json': '[1, 2]' } }, /does not hold a JSON object/],
    ['null', { disclosures: { 'tj.psb.json': 'null' } }, /does not hold a JSON object/],
    ['another key', { members: { 'tj.psb.json': JSON.stringify(member('tj.mca')) } }, /holds id "tj\.mca", not "tj\.psb"/],
    ['another plan', { plans: { 'tj-plan': { '2.json': JSON.stringify(plan('tj-plan', 1, 'draft')) } } }, /2\.json holds plan "tj-plan" version 1/]
  ]
  for (const [name, files, message] of cases) {
    const dir = t.testdir(files)
    await t.rejects(openFileStores({ dir, gatewayId: 'tj.gw.test' }), { code: 'GOVEX_ERR_INVALID_DOCUMENT', message }, name)
  }
  const dir = t.testdir({ members: 'a file where a folder should be' })
  await t.rejects(FileMemberRegistry.open({ dir }), { code: 'ENOTDIR' })
})

t.test('open: a crash between the two writes of an activation is settled for the later activation', async t => {
  const dir = t.testdir({
    plans: {
      'tj-plan': {
        '1.json': JSON.stringify(plan('tj-plan', 1, 'active', '2026-02-01T00:00:00.000Z')),
        '2.json': JSON.stringify(plan('tj-plan', 2, 'active', '2026-03-01T00:00:00.000Z'))
      },
      'tj-old': { '1.json': JSON.stringify(plan('tj-old', 1, 'active', null)) }
    }
  })
  const plans = await FilePlanStore.open({ dir })
  t.equal((await plans.getActive())?.version, 2, 'the later activation wins')
  const expected = { ...plan('tj-plan', 1, 'active', '2026-02-01T00:00:00.000Z'), status: 'superseded', supersededAt: '2026-03-01T00:00:00.000Z' }
  t.same(await plans.get('tj-plan', 1), expected)
  t.same(readJson(join(dir, 'plans', 'tj-plan', '1.json')), expected, 'fixed on disk too')
  t.equal((await plans.get('tj-old', 1))?.status, 'superseded', 'an activation without a date loses')
  t.same((await plans.list()).filter(p => p.status === 'active').length, 1)
  const again = await FilePlanStore.open({ dir })
  t.equal((await again.getActive())?.version, 2, 'stable across opens')
})

t.test('open: equal activation times are settled by id, then version', async t => {
  const at = '2026-02-01T00:00:00.000Z'
  const dir = t.testdir({
    plans: {
      'a-plan': { '1.json': JSON.stringify(plan('a-plan', 1, 'active', at)) },
      'b-plan': { '1.json': JSON.stringify(plan('b-plan', 1, 'active', at)), '2.json': JSON.stringify(plan('b-plan', 2, 'active', at)) }
    }
  })
  const plans = await FilePlanStore.open({ dir })
  t.same(await plans.getActive(), plan('b-plan', 2, 'active', at))
  t.equal((await plans.get('b-plan', 1))?.status, 'superseded')
  t.equal((await plans.get('a-plan', 1))?.status, 'superseded')
})

t.test('a failed write changes nothing, and the next one works', async t => {
  const dir = t.testdir()
  const members = await FileMemberRegistry.open({ dir })
  writeFileSync(join(dir, 'members'), 'a file where the folder should be')
  await t.rejects(members.put(member('tj.psb')), 'the folder cannot be made')
  t.equal(await members.get('tj.psb'), undefined)
  rmSync(join(dir, 'members'))
  await members.put(member('tj.psb'))
  t.same(await members.get('tj.psb'), member('tj.psb'))

  const directories = await FileDirectoryStore.open({ dir })
  mkdirSync(join(dir, 'directories', 'tj.psb.json', 'blocker'), { recursive: true })
  await t.rejects(directories.put({ agency: 'tj.psb', version: 1, resources: [] }), 'a folder is in the way')
  t.same(readdirSync(join(dir, 'directories')), ['tj.psb.json'], 'the temp file is removed')
  t.equal(await directories.get('tj.psb'), undefined)
  const disclosures = await FileDisclosureStore.open({ dir })
  await disclosures.put({ agency: 'tj.psb', entries: [] })
  t.same(await disclosures.get('tj.psb'), { agency: 'tj.psb', entries: [] })
})

t.test('an activation whose second write fails switches nothing, and a retry completes it', async t => {
  const dir = t.testdir()
  const plans = await FilePlanStore.open({ dir })
  await plans.create(plan('tj-old', 1, 'active', '2026-02-01T00:00:00.000Z'))
  await plans.create(plan('tj-new', 1, 'approved'))
  const oldFile = join(dir, 'plans', 'tj-old', '1.json')
  const saved = readFileSync(oldFile, 'utf8')
  rmSync(oldFile)
  mkdirSync(join(oldFile, 'blocker'), { recursive: true })
  const activation = plan('tj-new', 1, 'active', '2026-03-01T00:00:00.000Z')
  await t.rejects(plans.update(activation, 'approved'))
  t.equal((await plans.getActive())?.id, 'tj-old', 'readers still see the old active plan')
  t.equal((await plans.get('tj-new', 1))?.status, 'approved')
  t.equal((readJson(join(dir, 'plans', 'tj-new', '1.json')) as PlanState).status, 'active', 'the new state was written first')

  rmSync(oldFile, { recursive: true })
  writeFileSync(oldFile, saved)
  await plans.update(activation, 'approved')
  t.equal((await plans.getActive())?.id, 'tj-new')
  t.equal((readJson(oldFile) as PlanState).status, 'superseded')
})

t.test('ping fails when the data folder is gone', async t => {
  const dir = join(t.testdir(), 'data')
  const stores = await openFileStores({ dir, gatewayId: 'tj.gw.test' })
  await stores.ping()
  rmSync(dir, { recursive: true })
  await t.rejects(stores.ping(), { code: 'GOVEX_ERR_UNAVAILABLE', message: /data folder/ })
  await stores.close().catch(() => {})
})

t.test('atomic helpers', async t => {
  const root = t.testdir()
  await ensureFolder(join(root, 'a', 'b', 'c'))
  t.ok(existsSync(join(root, 'a', 'b', 'c')), 'nested folders made')
  await ensureFolder(join(root, 'a', 'b', 'c'))
  await writeFileAtomic(join(root, 'x', 'doc.json'), '{"a":1}')
  t.equal(readFileSync(join(root, 'x', 'doc.json'), 'utf8'), '{"a":1}')
  await writeFileAtomic(join(root, 'x', 'doc.json'), '{"a":2}')
  t.equal(readFileSync(join(root, 'x', 'doc.json'), 'utf8'), '{"a":2}', 'replaced')
  t.same(await readFolder(join(root, 'missing')), [])
  await t.rejects(readFolder(join(root, 'x', 'doc.json')), { code: 'ENOTDIR' })
})
