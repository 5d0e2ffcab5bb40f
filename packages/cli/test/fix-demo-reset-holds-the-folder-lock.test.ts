// `govex demo` looked at the data folder's lock, then deleted the folder (rm -r):
// a gateway started between the look and the delete lost its store and lock
// from under it. The demo now empties the folder while holding its lock, so
// that gateway is refused instead, and releases the lock before its own
// gateway starts. A holder the demo cannot check (another host) is named with
// the lock file to delete once it is gone, as a gateway's start names it.
import t from 'tap'
import { promises } from 'node:fs'
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { govex, tempDir } from './helpers/run.js'
import { holdFolder } from './helpers/child.js'
import { isPortFree } from '../src/ports.js'

const EXAMPLE = fileURLToPath(new URL('../../../examples/tianjin', import.meta.url))
const SINCE = '2026-11-28T10:00:00.000Z'

async function exampleCopy (t: Parameters<typeof tempDir>[0]): Promise<{ dir: string, data: string }> {
  const dir = join(await tempDir(t), 'tianjin')
  await cp(EXAMPLE, dir, { recursive: true, filter: src => !/[/\\](data|keys|data-seed)$/.test(src) })
  const data = join(dir, 'data')
  await mkdir(data)
  return { dir, data }
}

t.test('a gateway started while the demo resets the data folder is refused, not wiped', async t => {
  // the demo checks the providers' ports before it resets; none is bound here
  for (const port of [4101, 4102, 4103]) {
    if (!(await isPortFree(port))) {
      t.skip(`port ${port} is taken (a demo or the example's providers are running): cannot run the demo`)
      return
    }
  }
  const { dir, data } = await exampleCopy(t)
  await writeFile(join(data, 'store.jsonl'), 'a previous demo\'s state\n')

  // the reset's first delete inside the data folder waits until the test lets it go
  let reached!: () => void
  const atDelete = new Promise<void>(resolve => { reached = resolve })
  let letGo!: () => void
  const go = new Promise<void>(resolve => { letGo = resolve })
  // fs.promises is what `import { rm } from 'node:fs/promises'` reads, once synced
  const writable = promises as { rm: typeof promises.rm }
  const rm = promises.rm
  writable.rm = async (path, options) => {
    if (typeof path === 'string' && (path === data || path.startsWith(data + sep))) {
      reached()
      await go
    }
    await rm(path, options)
  }
  syncBuiltinESMExports()
  t.teardown(() => {
    writable.rm = rm
    syncBuiltinESMExports()
    letGo()
  })

  const stop = new AbortController()
  const demo = govex(['demo', '--example', dir, '--port', '0', '--once'], { signal: stop.signal })
  await Promise.race([atDelete, demo.then(r => { throw new Error(`the demo ended before its reset: ${r.stdout}${r.stderr}`) })])

  // a gateway starts on the folder now (a process holding it as one does)
  const { locked, stderr } = await holdFolder(t, data)
  t.notOk(locked, 'the gateway did not take the folder')
  t.match(stderr(), 'GOVEX_ERR_CONFLICT', 'it was refused')
  t.match(stderr(), `is in use by process ${process.pid} on `, 'naming the demo')

  // stop the demo once its reset is done (before its providers start)
  stop.abort()
  letGo()
  const r = await demo
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /stopped\.\n$/)
  t.same(await readdir(data), [], 'the reset emptied the folder and released its lock')
})

t.test('a holder the demo cannot check is named with the lock to delete once it is gone', async t => {
  const { dir, data } = await exampleCopy(t)
  const lock = join(data, 'govex.lock')
  const text = JSON.stringify({ pid: 1, host: 'other-host.example', since: SINCE, nonce: 'far' })
  await writeFile(lock, text)
  for (const keep of [false, true]) {
    const name = keep ? '--keep' : 'fresh'
    const r = await govex(['demo', '--example', dir, '--port', '0', '--once', ...(keep ? ['--keep'] : [])])
    t.equal(r.code, 1, `${name}: exits 1`)
    t.match(r.stderr, `is in use by process 1 on other-host.example since ${SINCE} (a gateway or another demo)`, `${name}: names the holder`)
    t.match(r.stderr, `this process cannot tell whether it still runs (it is on another host): stop it, or if it is gone, delete ${lock} and run the demo again, or give the demo a data folder of its own`, `${name}: says to delete the lock once it is gone`)
    t.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`)
    t.equal(await readFile(lock, 'utf8'), text, `${name}: the lock is left alone`)
  }
})

t.test('a lock the demo cannot read is a coded error saying what to do', async t => {
  const { dir, data } = await exampleCopy(t)
  await mkdir(join(data, 'govex.lock'))
  const r = await govex(['demo', '--example', dir, '--port', '0', '--once'])
  t.equal(r.code, 1)
  t.match(r.stderr, /^error: the data folder lock .*govex\.lock cannot be read \(EISDIR[^)]*\); give this process read access to it and its folder, or set store\.dir to a folder this process can read and write\n$/)
})
