// PROTOCOL.md "Command line": errors are one readable line. An error whose
// message already names its problems (the gateway's keyFile check: "keyFile … is
// not an Ed25519 private JWK …: /d is required") printed them a second time in
// the CLI's own form ("… /d is required: /d required is required"); each problem
// now appears once. Run as the real executable, as an operator meets it.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { govex, tempDir } from './helpers/run.js'

const BIN = fileURLToPath(new URL('../bin/govex.js', import.meta.url))
const DIST = fileURLToPath(new URL('../dist/main.js', import.meta.url))

function node (args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.once('error', reject)
    child.once('close', code => { resolve({ code, stdout, stderr }) })
  })
}

if (!existsSync(DIST)) {
  t.skip(`packages/cli/dist/main.js is missing: run "npx tsc -b" at the repository root (${BIN})`)
} else {
  t.test('a keyFile holding a public key: one line, the problem named once', async t => {
    const dir = await tempDir(t)
    t.equal((await govex(['init', dir])).code, 0)
    const r = await node(['start', '--config', join(dir, 'govex.config.json')], { GOVEX_PORT: '0', GOVEX_KEY_FILE: './keys/city.mca.pub.json' })
    t.equal(r.code, 1)
    t.equal(r.stdout, '', 'the gateway did not start')
    const lines = r.stderr.split('\n').filter(l => l !== '')
    t.equal(lines.length, 1, r.stderr)
    t.match(lines[0], /^error: keyFile .*city\.mca\.pub\.json is not an Ed25519 private JWK/)
    t.equal(lines[0]?.split('/d ').length, 2, `"/d" is named once: ${lines[0] ?? ''}`)
    t.notMatch(lines[0], /required is required/)
  })
}
