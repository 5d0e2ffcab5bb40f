// PROTOCOL.md "Command line": an error is one readable line and a non-zero
// exit. Node's recursive mkdir spins forever on a folder that exists but
// cannot hold the one asked for (any path under /proc): `keys generate --out`
// there used to burn a CPU core without end instead of failing.
import t from 'tap'
import { existsSync } from 'node:fs'
import { govex } from './helpers/run.js'
import type { RunResult } from './helpers/run.js'

t.test('keys generate --out a place that cannot hold a folder fails at once', { skip: existsSync('/proc/self') ? false : 'needs /proc' }, async t => {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<'hung'>(resolve => { timer = setTimeout(() => resolve('hung'), 10_000) })
  const result = await Promise.race([govex(['keys', 'generate', '--id', 'tj.psb', '--out', '/proc/govex-no-such/keys']), hung])
  clearTimeout(timer)
  if (result === 'hung') {
    t.fail('still running after 10 s')
    return
  }
  const { code, stderr } = result as RunResult
  t.equal(code, 1)
  t.equal(stderr.trimEnd().split('\n').length, 1, 'one line')
  t.match(stderr, /^error: cannot create folder \/proc\/govex-no-such\/keys: .*choose another place/)
})
