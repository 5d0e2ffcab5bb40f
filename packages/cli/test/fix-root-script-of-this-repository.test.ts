// Paths on the command line resolve against INIT_CWD only under this
// repository's root scripts (`pnpm govex …`, `pnpm demo`). Any npm or pnpm
// script named govex or demo counted: a project's own
// `"govex": "cd deploy && govex start --config govex.config.json"` runs in
// deploy/, yet its paths were resolved against the folder the user typed
// `npm run govex` in, and its next steps said `pnpm govex`. The root
// package's name (govex, as npm and pnpm set npm_package_name) now has to
// match too.
import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { built, runGovex } from './helpers/child.js'
import { tempDir } from './helpers/run.js'
import { userFolder, viaRootScript } from '../src/io.js'

t.test('INIT_CWD counts under the repository\'s scripts only', async t => {
  const script = { npm_lifecycle_event: 'govex', INIT_CWD: '/home/me/city' }
  t.equal(userFolder({ ...script, npm_package_name: 'govex' }, '/repo'), '/home/me/city', 'pnpm govex in this repository')
  t.equal(userFolder({ ...script, npm_lifecycle_event: 'demo', npm_package_name: 'govex' }, '/repo'), '/home/me/city', 'pnpm demo in this repository')
  t.equal(userFolder({ ...script, npm_package_name: 'city-exchange' }, '/home/me/city/deploy'), '/home/me/city/deploy', 'a project\'s own govex script: where it runs')
  t.equal(userFolder(script, '/home/me/city/deploy'), '/home/me/city/deploy', 'no package name: where it runs')
  t.equal(viaRootScript({ ...script, npm_package_name: 'city-exchange' }), false)
  t.equal(viaRootScript({ ...script, npm_package_name: 'govex' }), true)
})

if (built(t)) {
  t.test('a project\'s own "govex" script (cd deploy && govex …) writes where it runs', async t => {
    const project = await tempDir(t)
    const deploy = join(project, 'deploy')
    await mkdir(deploy)
    // `npm run govex` typed in the project folder; the script cd'd into deploy/
    const own = { npm_lifecycle_event: 'govex', npm_package_name: 'city-exchange', INIT_CWD: project }
    const init = await runGovex(['init', 'site'], { cwd: deploy, env: own })
    t.equal(init.code, 0, init.stderr)
    t.ok(existsSync(join(deploy, 'site', 'govex.config.json')), 'in deploy/, where the script runs')
    t.notOk(existsSync(join(project, 'site')), 'not in the folder npm was run from')
    t.notMatch(init.stdout, /pnpm govex/, 'the next steps do not say pnpm govex')

    // this repository's root script, for comparison: the user's folder
    const root = await runGovex(['init', 'mine'], { cwd: deploy, env: { ...own, npm_package_name: 'govex' } })
    t.equal(root.code, 0, root.stderr)
    t.ok(existsSync(join(project, 'mine', 'govex.config.json')), 'pnpm govex: in INIT_CWD')
  })
}
