// The real `govex` executable (bin/govex.js → dist/main.js) as a child process:
// exit codes, one-line errors, and a clean stop of `start` on SIGTERM.
import t from 'tap'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FileAuditLog } from '@govex/core'
import { govex, tempDir } from './helpers/run.js'

const BIN = fileURLToPath(new URL('../bin/govex.js', import.meta.url))
const DIST = fileURLToPath(new URL('../dist/main.js', import.meta.url))

interface Child { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

function node (args: string[], options: { onStdout?: (text: string, kill: () => void) => void, env?: NodeJS.ProcessEnv, closeStdout?: boolean } = {}): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    // a reader that is gone before the command writes (`govex … | true`)
    if (options.closeStdout === true) child.stdout.destroy()
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      options.onStdout?.(stdout, () => child.kill('SIGTERM'))
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.once('error', reject)
    child.once('close', (code, signal) => { resolve({ code, signal, stdout, stderr }) })
  })
}

if (!existsSync(DIST)) {
  t.skip(`packages/cli/dist/main.js is missing: run "npx tsc -b" at the repository root to test the real executable (${BIN})`)
} else {
  t.test('version, and an error is one line with exit 1', async t => {
    const v = await node(['--version'])
    t.equal(v.code, 0)
    t.match(v.stdout, /^\d+\.\d+\.\d+\n$/)
    const bad = await node(['token', '--key', 'nope.json', '--iss', 'tj.mca', '--aud', 'tj.gw'])
    t.equal(bad.code, 1)
    t.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr)
    t.match(bad.stderr, /^error: cannot read private key/)
  })

  t.test('fix-closed-stdout: a reader that went away ends the command quietly, not with an EPIPE stack trace', async t => {
    const dir = await tempDir(t)
    t.equal((await govex(['init', dir])).code, 0)
    const config = join(dir, 'govex.config.json')
    const log = await FileAuditLog.open({ dir: join(dir, 'data'), gatewayId: 'city.gw.extranet-1' })
    await Promise.all(Array.from({ length: 200 }, async () => await log.append({ kind: 'admin', id: randomUUID(), actor: 'city.it-office', action: 'member.put', target: 'city.mca', digest: null, outcome: 'denied', code: 'GOVEX_ERR_INVALID_DOCUMENT', status: 422 })))
    await log.close()
    for (const args of [['--help'], ['audit', 'export', '--config', config], ['audit', 'query', '--config', config, '--json']]) {
      const r = await node(args, { closeStdout: true })
      t.equal(r.stderr, '', `${args.join(' ')}: nothing on stderr`)
      t.equal(r.code, 0, `${args.join(' ')}: its own exit code`)
    }
  })

  t.test('start runs until SIGTERM, then exits 0 having flushed its log', async t => {
    const dir = await tempDir(t)
    t.equal((await govex(['init', dir])).code, 0)
    let killed = false
    const r = await node(['start', '--config', join(dir, 'govex.config.json')], {
      env: { GOVEX_PORT: '0' },
      onStdout: (text, kill) => {
        if (!killed && text.includes('gateway listening')) { killed = true; kill() }
      }
    })
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, /"msg":"stopped"/)
    const verify = await govex(['audit', 'verify', '--config', join(dir, 'govex.config.json')])
    t.equal(verify.code, 0, verify.stdout)
    t.match(verify.stdout, /^ok: [1-9]\d* records/)
  })
}
