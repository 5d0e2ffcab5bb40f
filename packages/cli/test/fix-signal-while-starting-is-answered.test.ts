// PROTOCOL.md "Command line": `govex start` stops cleanly on SIGINT/SIGTERM. A
// signal during the start was already deferred until the start finished, but
// nothing said so: a user pressing Ctrl-C saw no answer for as long as the
// start took. One line on stderr now says at once that it stops when the start
// is done, and a second signal exits at once, by that signal, as Node servers
// do. `govex demo` had no deferral at all: a signal while it set up its keys,
// data folder, providers and gateway killed it (exit 143), possibly half-way
// through writing its store; it now gets the same handling.
//
// The start is held under way, deterministically: the test preloads
// helpers/hold-writes.mjs into the child, which holds the bootstrap's writes
// into <store.dir>/members/ once HELD members are there, until the test
// releases them. (It relied on a big bootstrap, 250 members each fsync'd with
// its audit record, outlasting the signal and the test's look at the folder:
// on a fast disk the start could finish first.) The signal is sent once the
// folder holds HELD members, so the start is under way (the listener is taken
// before the store is opened), and the stderr line must come while it still is.
import t from 'tap'
import { cp, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { built, HOLD_WRITES, spawnGovex, type SpawnOptions, type Spawned } from './helpers/child.js'
import { govex, tempDir } from './helpers/run.js'
import { isPortFree } from '../src/ports.js'

const EXAMPLE = fileURLToPath(new URL('../../../examples/tianjin', import.meta.url))
/** members more than the deployment's own: the bootstrap goes on after the HELD first ones */
const FILLERS = 20
/** members written before the rest of the bootstrap is held */
const HELD = 5

interface Member { id: string, name: string, roles: string[], keys: unknown[] }

function fillers (prefix: string, keys: unknown[]): Member[] {
  return Array.from({ length: FILLERS }, (_, i) => ({ id: `${prefix}.filler-${i}`, name: `Filler agency ${i}`, roles: ['agency'], keys }))
}

interface Held extends Spawned {
  /** lets the held bootstrap go on */
  release: () => Promise<void>
}

/** Runs govex with the bootstrap's writes into `members` held once HELD are there, until released; killed at the end of the test if still running. */
function run (t: Test, args: string[], members: string, options: SpawnOptions = {}): Held {
  // beside the deployment, not in its store
  const gate = join(members, '..', '..', 'release-the-bootstrap')
  const r = spawnGovex(args, {
    ...options,
    env: { GOVEX_LOG_FORMAT: 'json', GOVEX_TEST_HOLD_DIR: members, GOVEX_TEST_HOLD_AFTER: String(HELD), GOVEX_TEST_HOLD_UNTIL: gate, ...options.env },
    nodeArgs: ['--import', HOLD_WRITES]
  })
  t.teardown(() => { if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL') })
  return { ...r, release: async () => { await writeFile(gate, '') } }
}

const count = async (folder: string): Promise<number> => (await readdir(folder).catch(() => [])).filter(n => n.endsWith('.json')).length

async function until (check: () => Promise<boolean> | boolean, ms = 60_000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  return false
}

/** An init deployment whose bootstrap lists FILLERS more members. */
async function bigInit (t: Parameters<typeof tempDir>[0]): Promise<{ config: string, members: string, total: number }> {
  const dir = await tempDir(t)
  t.equal((await govex(['init', dir])).code, 0)
  const file = join(dir, 'members.json')
  const members = JSON.parse(await readFile(file, 'utf8')) as Member[]
  const all = members.concat(fillers('city', (members.find(m => m.id === 'city.mca') as Member).keys))
  await writeFile(file, JSON.stringify(all, null, 2))
  return { config: join(dir, 'govex.config.json'), members: join(dir, 'data', 'members'), total: all.length }
}

if (built(t)) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    t.test(`start: ${signal} while starting is answered at once on stderr, then the start finishes and the gateway stops with exit 0`, async t => {
      const { config, members, total } = await bigInit(t)
      const r = run(t, ['start', '--config', config], members, { env: { GOVEX_PORT: '0' } })
      t.ok(await until(async () => await count(members) >= HELD), 'the bootstrap is under way')
      r.child.kill(signal)
      t.ok(await until(() => r.stderr().includes('\n'), 15_000), 'a line on stderr')
      t.equal(await count(members), HELD, `it came while the start was still going (${HELD} of ${total} members written)`)
      t.equal(r.stderr(), `${signal} while the gateway is starting: it stops as soon as the start is done (${signal} again exits at once)\n`)
      await r.release()
      const end = await r.closed
      t.equal(end.signal, null, 'not killed by the signal')
      t.equal(end.code, 0, r.stderr())
      t.match(r.stdout(), /"msg":"gateway listening"[^\n]*\n(.*\n)*.*"msg":"stopping: finishing in-flight requests, flushing the audit log"/, 'the start finished, then it stopped')
      t.match(r.stdout(), /"msg":"stopped"/)
      t.equal(await count(members), total, 'the bootstrap was not cut short')
      const verify = await govex(['audit', 'verify', '--config', config])
      t.equal(verify.code, 0, verify.stdout)
      t.match(verify.stdout, new RegExp(`^ok: ${total + 4} records`), 'every bootstrap record is in the log')
    })
  }

  t.test('start: a second signal while starting exits at once, by that signal', async t => {
    const { config, members, total } = await bigInit(t)
    const r = run(t, ['start', '--config', config], members, { env: { GOVEX_PORT: '0' } })
    t.ok(await until(async () => await count(members) >= HELD), 'the bootstrap is under way')
    r.child.kill('SIGINT')
    t.ok(await until(() => r.stderr().includes('\n'), 15_000), 'the first signal is answered')
    r.child.kill('SIGINT')
    const end = await r.closed
    t.equal(end.signal, 'SIGINT', 'ended by the signal, as Node\'s default (a shell shows exit 130)')
    t.match(r.stderr(), /\nSIGINT again: exiting at once, without a clean stop\n$/)
    t.notMatch(r.stdout(), /"msg":"stopped"/)
    t.equal(await count(members), HELD, `it did not wait for the start (${HELD} of ${total} members written)`)
  })

  t.test('demo: SIGTERM while it starts is answered at once; the start finishes, no walkthrough, exit 0', async t => {
    for (const port of [4101, 4102, 4103]) {
      if (!(await isPortFree(port))) {
        t.skip(`port ${port} is taken (a demo or the example's providers are running): cannot run the demo test`)
        return
      }
    }
    const dir = join(await tempDir(t), 'tianjin')
    await cp(EXAMPLE, dir, { recursive: true, filter: src => !/[\\/](data|keys|data-seed|node_modules)$/.test(src) })
    // many more members: setup makes a key pair for each and the gateway bootstraps them all
    const template = join(dir, 'members.template.json')
    const members = JSON.parse(await readFile(template, 'utf8')) as Member[]
    await writeFile(template, JSON.stringify(members.concat(fillers('tj', 'GENERATED' as unknown as unknown[])), null, 2))
    const total = members.length + FILLERS
    const stored = join(dir, 'data', 'members')
    const r = run(t, ['demo', '--example', dir, '--port', '0'], stored)
    t.ok(await until(async () => await count(stored) >= HELD), 'the gateway\'s bootstrap is under way')
    r.child.kill('SIGTERM')
    t.ok(await until(() => r.stderr().includes('\n'), 15_000), 'a line on stderr')
    t.equal(await count(stored), HELD, 'it came while the demo was still starting')
    t.equal(r.stderr(), 'SIGTERM while the demo is starting: it stops as soon as the start is done (SIGTERM again exits at once)\n')
    await r.release()
    const end = await r.closed
    t.equal(end.signal, null, 'not killed by the signal (was exit 143)')
    t.equal(end.code, 0, r.stdout() + r.stderr())
    t.match(r.stdout(), /\n {2}gateway {4}tj\.gw\.extranet-1 at http:\/\/[^\n]*\nstopping: flushing the audit log…\nstopped\.\n$/, 'the gateway started, then stopped without the walkthrough')
    t.equal(await count(stored), total, 'the store was not left half written')
    const verify = await govex(['audit', 'verify', '--config', join(dir, 'govex.config.json')])
    t.equal(verify.code, 0, verify.stdout)
  })
}
