// PROTOCOL.md "Command line": `govex start` stops cleanly on SIGINT/SIGTERM. A
// signal during the start was already deferred until the start finished, but
// nothing said so: a user pressing Ctrl-C saw no answer for as long as the
// start took. One line on stderr now says at once that it stops when the start
// is done, and a second signal exits at once, by that signal, as Node servers
// do. `govex demo` had no deferral at all: a signal while it set up its keys,
// data folder, providers and gateway killed it (exit 143), possibly half-way
// through writing its store; it now gets the same handling.
//
// The window is made wide and observable with a big bootstrap: hundreds of
// members, each written and fsync'd into <store.dir>/members/ with its audit
// record. The signal is sent once that folder fills, so the start is under way
// (the listener is taken before the store is opened), and the stderr line must
// come while it still is.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { govex, tempDir } from './helpers/run.js'
import { isPortFree } from '../src/ports.js'

const BIN = fileURLToPath(new URL('../bin/govex.js', import.meta.url))
const DIST = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const EXAMPLE = fileURLToPath(new URL('../../../examples/tianjin', import.meta.url))
const FILLERS = 250

interface Member { id: string, name: string, roles: string[], keys: unknown[] }

function fillers (prefix: string, keys: unknown[]): Member[] {
  return Array.from({ length: FILLERS }, (_, i) => ({ id: `${prefix}.filler-${i}`, name: `Filler agency ${i}`, roles: ['agency'], keys }))
}

interface Run {
  child: ReturnType<typeof spawn>
  stdout: () => string
  stderr: () => string
  closed: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

function run (args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, GOVEX_LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const closed = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => { child.once('close', (code, signal) => { resolve({ code, signal }) }) })
  return { child, stdout: () => stdout, stderr: () => stderr, closed }
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

if (!existsSync(DIST)) {
  t.skip(`packages/cli/dist/main.js is missing: run "npx tsc -b" at the repository root (${BIN})`)
} else {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    t.test(`start: ${signal} while starting is answered at once on stderr, then the start finishes and the gateway stops with exit 0`, async t => {
      const { config, members, total } = await bigInit(t)
      const r = run(['start', '--config', config], { GOVEX_PORT: '0' })
      t.ok(await until(async () => await count(members) >= 5), 'the bootstrap is under way')
      r.child.kill(signal)
      t.ok(await until(() => r.stderr().includes('\n'), 15_000), 'a line on stderr')
      t.ok(await count(members) < total, `it came while the start was still going (${await count(members)} of ${total} members written)`)
      t.equal(r.stderr(), `${signal} while the gateway is starting: it stops as soon as the start is done (${signal} again exits at once)\n`)
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
    const r = run(['start', '--config', config], { GOVEX_PORT: '0' })
    t.ok(await until(async () => await count(members) >= 5), 'the bootstrap is under way')
    r.child.kill('SIGINT')
    t.ok(await until(() => r.stderr().includes('\n'), 15_000), 'the first signal is answered')
    r.child.kill('SIGINT')
    const end = await r.closed
    t.equal(end.signal, 'SIGINT', 'ended by the signal, as Node\'s default (a shell shows exit 130)')
    t.match(r.stderr(), /\nSIGINT again: exiting at once, without a clean stop\n$/)
    t.notMatch(r.stdout(), /"msg":"stopped"/)
    t.ok(await count(members) < total, 'it did not wait for the start')
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
    const r = run(['demo', '--example', dir, '--port', '0'])
    t.ok(await until(async () => await count(stored) >= 5), 'the gateway\'s bootstrap is under way')
    r.child.kill('SIGTERM')
    t.ok(await until(() => r.stderr().includes('\n'), 15_000), 'a line on stderr')
    t.ok(await count(stored) < total, 'it came while the demo was still starting')
    t.equal(r.stderr(), 'SIGTERM while the demo is starting: it stops as soon as the start is done (SIGTERM again exits at once)\n')
    const end = await r.closed
    t.equal(end.signal, null, 'not killed by the signal (was exit 143)')
    t.equal(end.code, 0, r.stdout() + r.stderr())
    t.match(r.stdout(), /\n {2}gateway {4}tj\.gw\.extranet-1 at http:\/\/[^\n]*\nstopping: flushing the audit log…\nstopped\.\n$/, 'the gateway started, then stopped without the walkthrough')
    t.equal(await count(stored), total, 'the store was not left half written')
    const verify = await govex(['audit', 'verify', '--config', join(dir, 'govex.config.json')])
    t.equal(verify.code, 0, verify.stdout)
  })
}
