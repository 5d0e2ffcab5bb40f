// `pnpm govex …` runs the CLI from the repository root (the root script), so
// paths on the command line were read and written there, not in the folder the
// user typed them in. Through the root script (npm_lifecycle_event govex or
// demo, INIT_CWD the user's folder, as npm and pnpm set them) they resolve
// against INIT_CWD; the printed next steps say `pnpm govex` then. And an
// unknown option is reported even when a required one is missing.
import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { BIN, built, runGovex, type ChildResult } from './helpers/child.js'
import { govex, tempDir } from './helpers/run.js'
import { rootPackageJson } from '../src/io.js'

/** The real executable, started as `pnpm <script>` starts it: from `root`, with the user's folder in INIT_CWD. */
async function viaScript (args: string[], { root, user, script = 'govex' }: { root: string, user: string | undefined, script?: string }): Promise<ChildResult> {
  // as pnpm and npm set them for the repository root package's script; without
  // a user folder none of them (even when the test itself runs under pnpm)
  const env = user === undefined
    ? { npm_lifecycle_event: undefined, npm_package_json: undefined, INIT_CWD: undefined }
    : { npm_lifecycle_event: script, npm_package_json: rootPackageJson, INIT_CWD: user }
  return await runGovex(args, { cwd: root, env })
}

if (built(t)) {
  t.test('through the root script, command-line paths are the user\'s folder\'s', async t => {
    const base = await tempDir(t)
    const root = join(base, 'repo')
    const user = join(root, 'docs')
    await mkdir(user, { recursive: true })

    const init = await viaScript(['init', 'my-exchange'], { root, user })
    t.equal(init.code, 0, init.stderr)
    t.ok(existsSync(join(user, 'my-exchange', 'govex.config.json')), 'init wrote into the user\'s folder')
    t.notOk(existsSync(join(root, 'my-exchange')), 'not into the root the script runs from')
    t.match(init.stdout, 'wrote a deployment to my-exchange:')
    t.match(init.stdout, '\nNext:\n  pnpm govex lint --config my-exchange/govex.config.json my-exchange/plan.json\n  pnpm govex start --config my-exchange/govex.config.json\n', 'the next steps run as the user ran init')

    const lint = await viaScript(['lint', '--config', 'my-exchange/govex.config.json', 'my-exchange/plan.json'], { root, user })
    t.equal(lint.code, 0, lint.stdout + lint.stderr)

    const keys = await viaScript(['keys', 'generate', '--id', 'tj.psb', '--out', './keys', '--kid', 'k1'], { root, user })
    t.equal(keys.code, 0, keys.stderr)
    t.ok(existsSync(join(user, 'keys', 'tj.psb.key.json')), 'keys written in the user\'s folder')
    t.notOk(existsSync(join(root, 'keys')))
    t.match(keys.stdout, 'wrote keys/tj.psb.key.json')

    const token = await viaScript(['token', '--key', '../docs/keys/tj.psb.key.json', '--iss', 'tj.psb', '--aud', 'tj.gw'], { root: base, user })
    t.equal(token.code, 0, `../ from the user's folder: ${token.stderr}`)

    // `pnpm demo --example <dir>`: the same rule
    const demo = await viaScript(['demo', '--example', 'nowhere', '--once'], { root, user, script: 'demo' })
    t.equal(demo.code, 1)
    t.match(demo.stderr, `${join(user, 'nowhere', 'setup.js')} is missing`)
  })

  t.test('run directly, paths are the working directory\'s and the next steps say how it was run', async t => {
    const base = await tempDir(t)
    const init = await viaScript(['init', 'x'], { root: base, user: undefined })
    t.equal(init.code, 0, init.stderr)
    t.ok(existsSync(join(base, 'x', 'govex.config.json')))
    t.match(init.stdout, `\nNext:\n  node ${BIN} lint --config x/govex.config.json x/plan.json\n`, 'node and the file it ran')
    // another script of the same name elsewhere (npx sets INIT_CWD too): only govex and demo count
    const other = await viaScript(['init', 'y'], { root: base, user: join(base, 'sub'), script: 'npx' })
    t.equal(other.code, 0, other.stderr)
    t.ok(existsSync(join(base, 'y', 'govex.config.json')))
  })
}

t.test('an unknown option is reported, even when a required one is missing too', async t => {
  const r = await govex(['audit', 'query', '--bogus'])
  t.equal(r.code, 1)
  t.match(r.stderr, "unknown option '--bogus'")
  const typo = await govex(['audit', 'query', '--confg', 'c.json'])
  t.match(typo.stderr, /unknown option '--confg'\s+\(Did you mean --config\?\)/)
  const missing = await govex(['audit', 'query'])
  t.equal(missing.code, 1)
  t.equal(missing.stderr, "error: required option '--config <file>' not specified (see --help)\n", 'a missing required option is still reported alone')
  const token = await govex(['token', '--iss', 'tj.mca'])
  t.match(token.stderr, "required option '--key <file>' not specified")
})
