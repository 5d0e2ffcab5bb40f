// Node's recursive mkdir spins forever on a folder that exists but cannot hold
// the one asked for (any path under /proc): a gateway whose store.spoolDir was
// there never started nor failed. It now fails at once, naming the setting.
import t from 'tap'
import { existsSync } from 'node:fs'
import { Spool } from '../src/spool.js'

t.test('a spool folder under /proc is refused at once', { skip: existsSync('/proc/self') ? false : 'needs /proc' }, async t => {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<'hung'>(resolve => { timer = setTimeout(() => resolve('hung'), 5000) })
  const outcome = await Promise.race([Spool.open('/proc/govex-no-such/spool', 'tj.gw.test').then(() => 'opened', (err: unknown) => err), hung])
  clearTimeout(timer)
  if (outcome === 'hung') return t.fail('still opening after 5 s')
  t.match(outcome, {
    code: 'GOVEX_ERR_BAD_REQUEST',
    message: 'the audit spool folder /proc/govex-no-such/spool cannot be created (this place cannot hold a folder); set store.spoolDir to a folder this process can write'
  })
})
