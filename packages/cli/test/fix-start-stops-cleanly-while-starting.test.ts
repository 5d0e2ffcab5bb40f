// PROTOCOL.md "Command line": `govex start` stops cleanly on SIGINT/SIGTERM,
// flushing the audit log. A signal that came while the gateway was still
// starting (importing, opening its store, bootstrapping — a second or more)
// killed the process outright (exit 143, no "stopped" line), whatever the
// bootstrap had half written. The stop is now asked for from the first moment:
// the start finishes, then the gateway closes as after any signal, exit 0.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { govex, tempDir } from './helpers/run.js'

const BIN = fileURLToPath(new URL('../bin/govex.js', import.meta.url))
const DIST = fileURLToPath(new URL('../dist/main.js', import.meta.url))

interface Child { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

/** Starts a gateway and sends `signal` as soon as it logs that it bootstrapped its store, before it listens. */
function startAndSignal (config: string, signal: NodeJS.Signals): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start', '--config', config], { env: { ...process.env, GOVEX_PORT: '0', GOVEX_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let sent = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      if (!sent && stdout.includes('bootstrapped the empty store')) {
        sent = true
        child.kill(signal)
      }
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.once('error', reject)
    child.once('close', (code, sig) => { resolve({ code, signal: sig, stdout, stderr }) })
  })
}

if (!existsSync(DIST)) {
  t.skip(`packages/cli/dist/main.js is missing: run "npx tsc -b" at the repository root (${BIN})`)
} else {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    t.test(`${signal} while starting: the start completes, then the gateway stops cleanly with exit 0`, async t => {
      const dir = await tempDir(t)
      t.equal((await govex(['init', dir])).code, 0)
      const config = join(dir, 'govex.config.json')
      const r = await startAndSignal(config, signal)
      t.equal(r.signal, null, 'not killed by the signal')
      t.equal(r.code, 0, r.stderr)
      t.match(r.stdout, /"msg":"stopping: finishing in-flight requests, flushing the audit log"/)
      t.match(r.stdout, /"msg":"stopped"/)
      const verify = await govex(['audit', 'verify', '--config', config])
      t.equal(verify.code, 0, verify.stdout)
      t.match(verify.stdout, /^ok: 10 records/, 'every bootstrap record is in the log')
    })
  }
}
