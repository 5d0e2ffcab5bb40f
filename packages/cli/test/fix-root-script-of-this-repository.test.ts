// Paths on the command line resolve against INIT_CWD only under this
// repository's root scripts (`pnpm govex …`, `pnpm demo`). Any npm or pnpm
// script named govex or demo counted: a project's own
// `"govex": "cd deploy && govex start --config govex.config.json"` runs in
// deploy/, yet its paths were resolved against the folder the user typed
// `npm run govex` in, and its next steps said `pnpm govex`. The root
// package had to be named govex (npm_package_name), which an agency's own
// deployment project may well be named too: now its package.json's path
// (npm_package_json, set by npm and pnpm) has to be this repository's.
import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { built, runGovex } from './helpers/child.js'
import { tempDir } from './helpers/run.js'
import { rootPackageJson, userFolder, viaRootScript } from '../src/io.js'

t.test('INIT_CWD counts under the repository\'s scripts only', async t => {
  const script = { npm_lifecycle_event: 'govex', INIT_CWD: '/home/me/city' }
  const here = { npm_package_name: 'govex', npm_package_json: rootPackageJson }
  const own = { npm_package_name: 'govex', npm_package_json: '/home/me/city/package.json' }
  t.equal(userFolder({ ...script, ...here }, '/repo'), '/home/me/city', 'pnpm govex in this repository')
  t.equal(userFolder({ ...script, ...here, npm_lifecycle_event: 'demo' }, '/repo'), '/home/me/city', 'pnpm demo in this repository')
  t.equal(userFolder({ ...script, ...own }, '/home/me/city/deploy'), '/home/me/city/deploy', 'a project of one\'s own, also named govex: where its script runs')
  t.equal(userFolder({ ...script, npm_package_name: 'govex' }, '/home/me/city/deploy'), '/home/me/city/deploy', 'no package.json path: where it runs')
  t.equal(viaRootScript({ ...script, ...own }), false)
  t.equal(viaRootScript({ ...script, ...here }), true)
  t.equal(viaRootScript({ ...script, ...here, npm_lifecycle_event: 'test' }), false, 'another script of this repository')
})

if (built(t)) {
  t.test('a project\'s own "govex" script (cd deploy && govex …) writes where it runs', async t => {
    const project = await tempDir(t)
    const deploy = join(project, 'deploy')
    await mkdir(deploy)
    // `npm run govex` typed in the project folder; the script cd'd into deploy/.
    // The project is named govex too (an agency's deployment may well be):
    // only the package.json's path is this repository's or not.
    const own = { npm_lifecycle_event: 'govex', npm_package_name: 'govex', npm_package_json: join(project, 'package.json'), INIT_CWD: project }
    const init = await runGovex(['init', 'site'], { cwd: deploy, env: own })
    t.equal(init.code, 0, init.stderr)
    t.ok(existsSync(join(deploy, 'site', 'govex.config.json')), 'in deploy/, where the script runs')
    t.notOk(existsSync(join(project, 'site')), 'not in the folder npm was run from')
    t.notMatch(init.stdout, /pnpm govex/, 'the next steps do not say pnpm govex')

    // this repository's root script, for comparison: the user's folder
    const root = await runGovex(['init', 'mine'], { cwd: deploy, env: { ...own, npm_package_json: rootPackageJson } })
    t.equal(root.code, 0, root.stderr)
    t.ok(existsSync(join(project, 'mine', 'govex.config.json')), 'pnpm govex: in INIT_CWD')
  })
}
