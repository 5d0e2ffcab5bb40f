// init makes a deployment that lints clean and whose config loads; lint finds
// and prints every problem, with the right exit code.
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { readFile, stat, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfig } from '@govex/gateway'
import { govex, tempDir } from './helpers/run.js'

async function deployment (t: Parameters<Parameters<typeof t.test>[1]>[0]): Promise<string> {
  const dir = join(await tempDir(t), 'exchange')
  const r = await govex(['init', dir])
  t.equal(r.code, 0, r.stderr)
  return dir
}

t.test('init writes a deployment that passes lint and whose config loads', async t => {
  const dir = await deployment(t)
  for (const id of ['city.gw.extranet-1', 'city.it-office', 'city.gov', 'city.audit', 'city.psb', 'city.mca']) {
    t.equal((await stat(join(dir, 'keys', `${id}.key.json`))).mode & 0o777, 0o600, id)
    await stat(join(dir, 'keys', `${id}.pub.json`))
  }
  const members = JSON.parse(await readFile(join(dir, 'members.json'), 'utf8')) as Array<{ id: string, roles: string[], keys: Array<Record<string, unknown>> }>
  t.equal(members.length, 6)
  const pub = JSON.parse(await readFile(join(dir, 'keys/city.psb.pub.json'), 'utf8')) as unknown
  t.same(members.find(m => m.id === 'city.psb')?.keys, [pub], 'members carry the public keys')

  const lint = await govex(['lint', '--config', join(dir, 'govex.config.json')])
  t.equal(lint.code, 0, lint.stdout + lint.stderr)
  t.match(lint.stderr, /ok: \d+ files, no problems/)
  const plan = await govex(['lint', '--config', join(dir, 'govex.config.json'), join(dir, 'plan.json')])
  t.equal(plan.code, 0, plan.stdout + plan.stderr)

  const config = await loadConfig(join(dir, 'govex.config.json'), {})
  t.equal(config.gatewayId, 'city.gw.extranet-1')
  t.equal(config.zone, 'extranet')
  t.equal(config.port, 8080)
  t.match(config.store, { kind: 'file', dir: join(dir, 'data') }, 'relative paths resolve against the config folder')
})

t.test('init refuses a non-empty folder unless --force', async t => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'notes.txt'), 'mine')
  const r = await govex(['init', dir])
  t.equal(r.code, 1)
  t.match(r.stderr, /is not empty; choose a new folder or pass --force/)
  const forced = await govex(['init', dir, '--force', '--json', '--prefix', 'tj'])
  t.equal(forced.code, 0, forced.stderr)
  const result = JSON.parse(forced.stdout) as { members: Array<{ id: string }> }
  t.ok(result.members.some(m => m.id === 'tj.psb'))
  t.equal(await readFile(join(dir, 'notes.txt'), 'utf8'), 'mine', 'other files are left alone')
})

t.test('lint prints file:path code message for each problem and exits 1', async t => {
  const dir = await deployment(t)
  const dirFile = join(dir, 'directories/city.psb.json')
  const directory = JSON.parse(await readFile(dirFile, 'utf8')) as { resources: Array<Record<string, unknown>> }
  const bad = join(dir, 'bad-directory.json')
  const res = directory.resources[0] as Record<string, unknown>
  await writeFile(bad, JSON.stringify({ ...directory, resources: [{ ...res, securityLevel: 'secret', colour: 'red' }] }))
  const r = await govex(['lint', bad], { cwd: dir })
  t.equal(r.code, 1)
  t.match(r.stdout, new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:/resources/0/securityLevel enum `, 'm'))
  t.match(r.stdout, /\/resources\/0\/colour unknown-property /)
  t.match(r.stderr, /2 problems in 1 of 1 files/)
  const asJson = await govex(['lint', bad, '--json'])
  t.equal(asJson.code, 1)
  const report = JSON.parse(asJson.stdout) as { ok: boolean, files: Array<{ kind: string, problems: unknown[] }> }
  t.equal(report.ok, false)
  t.equal(report.files[0]?.kind, 'directory')
  t.equal(report.files[0]?.problems.length, 2)
})

t.test('lint checks a plan against the catalog it is given', async t => {
  const dir = await deployment(t)
  const planFile = join(dir, 'plan.json')
  const plan = JSON.parse(await readFile(planFile, 'utf8')) as { grants: Array<Record<string, unknown>> }
  const bad = join(dir, 'bad-plan.json')
  await writeFile(bad, JSON.stringify({ ...plan, grants: [{ ...plan.grants[0], fields: ['name', 'salary'] }] }))

  // a plan alone: its schema and the rules that need no catalog run; the rest are named as skipped
  const alone = await govex(['lint', bad])
  t.equal(alone.code, 0, alone.stdout + alone.stderr)
  t.match(alone.stderr, /note: plans were not checked against the catalog/)
  t.match(alone.stderr, /note: plan consumers were not checked against the member registry/)
  const twice = join(dir, 'twice-plan.json')
  await writeFile(twice, JSON.stringify({ ...plan, grants: [plan.grants[0], plan.grants[0]] }))
  const dup = await govex(['lint', twice])
  t.equal(dup.code, 1, 'a rule that needs no catalog still fails a lone plan')
  t.match(dup.stdout, /twice-plan\.json:\/grants\/1\/id duplicate-grant-id /)

  const withFlags = await govex(['lint', '--directories', join(dir, 'directories/city.psb.json'), join(dir, 'directories/city.mca.json'), '--members', join(dir, 'members.json'), '--', bad])
  t.equal(withFlags.code, 1, withFlags.stderr)
  t.match(withFlags.stdout, /bad-plan\.json:\/grants\/0\/fields\/1 /)
  t.notMatch(withFlags.stdout, /members\.json|city\.psb\.json/, 'context files are not reported when they are fine')

  const withConfig = await govex(['lint', '--config', join(dir, 'govex.config.json'), planFile])
  t.equal(withConfig.code, 0, withConfig.stdout)

  // documents named together form the catalog too
  const together = await govex(['lint', join(dir, 'directories/city.psb.json'), join(dir, 'members.json'), planFile])
  t.equal(together.code, 0, together.stdout + together.stderr)
})

t.test('lint tells document kinds apart and reports what it cannot tell', async t => {
  const dir = await tempDir(t)
  await mkdir(join(dir, 'x'))
  const unknown = join(dir, 'x/what.json')
  await writeFile(unknown, JSON.stringify({ hello: 'world' }))
  const broken = join(dir, 'x/broken.json')
  await writeFile(broken, '{"agency": ')
  const disclosure = join(dir, 'x/disclosure.json')
  await writeFile(disclosure, JSON.stringify({ agency: 'tj.psb', entries: [{ category: 'nope', title: 'x', publishedAt: '2026-01-01' }] }))
  const r = await govex(['lint', unknown, broken, disclosure, '--json'])
  t.equal(r.code, 1)
  const report = JSON.parse(r.stdout) as { files: Array<{ file: string, kind: string, problems: Array<{ code: string, path: string }> }> }
  const byFile = new Map(report.files.map(f => [f.file, f]))
  t.equal(byFile.get(unknown)?.problems[0]?.code, 'unknown-document')
  t.equal(byFile.get(broken)?.problems[0]?.code, 'json')
  t.equal(byFile.get(disclosure)?.kind, 'disclosure')
  t.match(byFile.get(disclosure)?.problems, [{ path: '/entries/0/category' }])
  const forced = await govex(['lint', '--type', 'member', unknown, '--json'])
  t.equal((JSON.parse(forced.stdout) as { files: Array<{ kind: string }> }).files[0]?.kind, 'member')
  const missing = await govex(['lint', join(dir, 'nope.json')])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /^error: cannot read document .*nope\.json: it does not exist\n$/)
  const nothing = await govex(['lint'])
  t.equal(nothing.code, 1)
  t.match(nothing.stderr, /nothing to lint/)
})

t.test('catalog findings (Art. 9 possible duplicates) fail the lint run', async t => {
  const example = fileURLToPath(new URL('../../../examples/tianjin/directories/', import.meta.url))
  const r = await govex(['lint', example + 'tj.psb.json', example + 'tj.hrss.json'])
  t.equal(r.code, 1, r.stdout + r.stderr)
  t.match(r.stdout, /^catalog: duplicate-item .*idNumber/m)
  const one = await govex(['lint', example + 'tj.psb.json'])
  t.equal(one.code, 0, 'one agency alone duplicates nobody')
})
