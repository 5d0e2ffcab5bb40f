// `govex demo` deleted the example's data folder (rm -r) before its gateway
// took the folder's lock, so a demo started while a gateway ran on that folder
// (`govex start --config examples/tianjin/govex.config.json` on another port,
// or another demo) deleted the running gateway's store and lock from under
// it. The demo now looks at the lock first: a live holder stops it with one
// line naming the holder and what to do, exit 1, nothing deleted.
import t from 'tap'
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { govex, tempDir } from './helpers/run.js'
import { holdFolder } from './helpers/child.js'

const EXAMPLE = fileURLToPath(new URL('../../../examples/tianjin', import.meta.url))

t.test('a demo on the data folder of a running gateway stops and deletes nothing', async t => {
  const dir = join(await tempDir(t), 'tianjin')
  await cp(EXAMPLE, dir, { recursive: true, filter: src => !/[/\\](data|keys|data-seed)$/.test(src) })
  const data = join(dir, 'data')
  await mkdir(data)
  await writeFile(join(data, 'store.jsonl'), 'the running gateway\'s state\n')
  const holder = await holdFolder(t, data)
  if (!holder.locked) throw new Error(`the lock holder ended: ${holder.stderr()}`)
  const pid = holder.pid

  for (const keep of [false, true]) {
    const r = await govex(['demo', '--example', dir, '--port', '0', '--once', ...(keep ? ['--keep'] : [])])
    const name = keep ? '--keep' : 'fresh'
    t.equal(r.code, 1, `${name}: exits 1 (${r.stdout}${r.stderr})`)
    t.match(r.stderr, new RegExp(`^error: the example's data folder .*data is in use by process ${pid} on ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} since `), `${name}: names the holder`)
    t.match(r.stderr, /stop that process and run the demo again, or give the demo a data folder of its own/, `${name}: says what to do`)
    t.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`)
    t.equal(await readFile(join(data, 'store.jsonl'), 'utf8'), 'the running gateway\'s state\n', `${name}: the gateway's store is left alone`)
    t.ok(existsSync(join(data, 'govex.lock')), `${name}: and its lock`)
    t.notOk(existsSync(join(dir, 'keys')), `${name}: nothing was started or generated`)
  }
})
