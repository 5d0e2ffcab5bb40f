// The real `govex` executable (bin/govex.js → dist/main.js) as a child process:
// exit codes, one-line errors, and a clean stop of `start` on SIGTERM.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { FileAuditLog } from '@govex/core'
import { built, runGovex, spawnGovex } from './helpers/child.js'
import { govex, tempDir } from './helpers/run.js'

if (built(t)) {
  t.test('version, and an error is one line with exit 1', async t => {
    const v = await runGovex(['--version'])
    t.equal(v.code, 0)
    t.match(v.stdout, /^\d+\.\d+\.\d+\n$/)
    const bad = await runGovex(['token', '--key', 'nope.json', '--iss', 'tj.mca', '--aud', 'tj.gw'])
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
      const r = await runGovex(args, { closeStdout: true })
      t.equal(r.stderr, '', `${args.join(' ')}: nothing on stderr`)
      t.equal(r.code, 0, `${args.join(' ')}: its own exit code`)
    }
  })

  t.test('start runs until SIGTERM, then exits 0 having flushed its log', async t => {
    const dir = await tempDir(t)
    t.equal((await govex(['init', dir])).code, 0)
    const started = spawnGovex(['start', '--config', join(dir, 'govex.config.json')], { env: { GOVEX_PORT: '0' } })
    let killed = false
    started.child.stdout.on('data', () => {
      if (!killed && started.stdout().includes('gateway listening')) { killed = true; started.child.kill('SIGTERM') }
    })
    const end = await started.closed
    t.equal(end.code, 0, started.stderr())
    t.match(started.stdout(), /"msg":"stopped"/)
    const verify = await govex(['audit', 'verify', '--config', join(dir, 'govex.config.json')])
    t.equal(verify.code, 0, verify.stdout)
    t.match(verify.stdout, /^ok: [1-9]\d* records/)
  })
}
