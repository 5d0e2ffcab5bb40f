// PROTOCOL.md "Command line": `govex start` stops cleanly on SIGINT/SIGTERM,
// flushing the audit log. A signal that came while the gateway was still
// starting (importing, opening its store, bootstrapping — a second or more)
// killed the process outright (exit 143, no "stopped" line), whatever the
// bootstrap had half written. The stop is now asked for from the first moment:
// the start finishes, then the gateway closes as after any signal, exit 0.
import t from 'tap'
import { join } from 'node:path'
import { built, spawnGovex, type ChildResult } from './helpers/child.js'
import { govex, tempDir } from './helpers/run.js'

/** Starts a gateway and sends `signal` as soon as it logs that it bootstrapped its store, before it listens. */
async function startAndSignal (config: string, signal: NodeJS.Signals): Promise<ChildResult> {
  const r = spawnGovex(['start', '--config', config], { env: { GOVEX_PORT: '0', GOVEX_LOG_FORMAT: 'json' } })
  let sent = false
  r.child.stdout.on('data', () => {
    if (!sent && r.stdout().includes('bootstrapped the empty store')) {
      sent = true
      r.child.kill(signal)
    }
  })
  const exit = await r.closed
  return { ...exit, stdout: r.stdout(), stderr: r.stderr() }
}

if (built(t)) {
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
