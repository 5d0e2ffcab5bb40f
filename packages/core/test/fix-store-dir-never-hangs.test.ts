// Node's recursive mkdir spins forever on a folder that exists but cannot hold
// the one asked for (any path under /proc answers ENOENT while its parent
// answers EEXIST): a gateway with store.dir there never started nor failed.
// It now fails at once, naming store.dir and what to do.
import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureFolder, folderProblem } from '../src/store/file/atomic.js'
import { openFileStores } from '../src/store/open.js'

const noProc = existsSync('/proc/self') ? false : 'needs /proc'

async function within<T> (ms: number, work: Promise<T>): Promise<T | 'hung'> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<'hung'>(resolve => { timer = setTimeout(() => resolve('hung'), ms) })
  try {
    return await Promise.race([work, hung])
  } finally {
    clearTimeout(timer)
  }
}

t.test('openFileStores with store.dir under /proc fails at once', { skip: noProc }, async t => {
  const outcome = await within(5000, openFileStores({ dir: '/proc/govex-no-such/data', gatewayId: 'tj.gw.test' }).then(
    () => 'opened',
    (err: unknown) => err))
  if (outcome === 'hung') return t.fail('still opening after 5 s')
  t.match(outcome, {
    code: 'GOVEX_ERR_BAD_REQUEST',
    message: 'store.dir /proc/govex-no-such/data cannot be created (this place cannot hold a folder); set store.dir to a folder this process can write'
  })
})

t.test('ensureFolder makes every missing level and leaves existing ones', async t => {
  const top = await mkdtemp(join(tmpdir(), 'govex-folder-'))
  t.teardown(() => rm(top, { recursive: true, force: true }))
  const deep = join(top, 'a', 'b', 'c')
  await ensureFolder(deep)
  t.ok((await stat(deep)).isDirectory())
  await ensureFolder(deep)
  await ensureFolder(join(top, 'a', 'b', '..', 'b', 'd'))
  t.ok((await stat(join(top, 'a', 'b', 'd'))).isDirectory(), 'a path with .. is resolved first')
  await writeFile(join(top, 'file'), '')
  const err = await ensureFolder(join(top, 'file', 'below')).then(() => null, (e: unknown) => e)
  t.match(err, { code: 'ENOTDIR' }, 'a file in the way')
  t.equal(folderProblem(err), 'a file is in the way')
  t.match(await ensureFolder(join(top, 'file')).then(() => null, (e: unknown) => e), { code: 'ENOTDIR' }, 'a file where the folder should be')
  const stores = await openFileStores({ dir: join(top, 'file'), gatewayId: 'tj.gw.test' }).then(() => null, (e: unknown) => e)
  t.match(stores, { code: 'GOVEX_ERR_BAD_REQUEST', message: `store.dir ${join(top, 'file')} cannot be created (a file is in the way); set store.dir to a folder this process can write` })
  t.equal(folderProblem(Object.assign(new Error('x'), { code: 'EACCES' })), 'permission denied')
  t.equal(folderProblem(new Error('odd')), 'odd')
})
