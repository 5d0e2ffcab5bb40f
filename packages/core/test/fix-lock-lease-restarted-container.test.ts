// A Docker container restarted after a crash keeps its host name and machine
// id but runs in a new pid namespace, so the data folder lock its old gateway
// left named a holder this process cannot probe: every start was refused
// until someone deleted the lock by hand. A held lock's mtime is now renewed
// (its lease, which the lock records): a holder on this machine in another
// pid namespace (or that recorded none) whose lock was not renewed for
// LEASE_EXPIRY_MS is gone and taken over, one renewed since is refused, and a
// holder on another host or machine, or one that keeps no lease (an older
// govex), is refused as before (its clock may differ; its mtime says nothing). Takeover claims follow
// the same rule. folderLockHolder says when it cannot tell whether the holder
// runs (`unknown`), and a lock it cannot read is a coded error saying what to
// do, not a raw EISDIR or EACCES.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { existsSync, readFileSync, readlinkSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { folderLockHolder, lockFolder, LEASE_EXPIRY_MS, LEASE_RENEW_MS } from '../src/store/file/folder-lock.js'
import { spawnLines } from './helpers/child-lines.js'
import { tempFolders } from './helpers/temp-folders.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/hold-data-folder.ts', import.meta.url))
const SINCE = '2026-11-28T10:00:00.000Z'
const OTHER_NS = 'pid:[4026532999]'

t.setTimeout(120_000)

const newDir = await tempFolders(t, 'lock-lease')

const attempt = <T>(read: () => T): T | undefined => { try { return read() } catch { return undefined } }
/** Where this process runs, read here (not from the code under test). */
const HERE = {
  host: hostname(),
  pidns: attempt(() => readlinkSync('/proc/self/ns/pid')),
  machine: attempt(() => readFileSync('/etc/machine-id', 'utf8').trim()) || undefined,
  boot: attempt(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()) || undefined
}
const noLease = HERE.machine === undefined || HERE.pidns === undefined
  ? 'the lease needs /etc/machine-id and pid namespaces (Linux)'
  : false

/** A lock (or claim) naming `holder`, last renewed `ageMs` ago. */
async function writeLock (path: string, holder: object, ageMs: number): Promise<void> {
  await writeFile(path, JSON.stringify(holder))
  const when = new Date(Date.now() - ageMs)
  await utimes(path, when, when)
}

const lockOf = async (dir: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(dir, 'govex.lock'), 'utf8')) as Record<string, unknown>
const mtimeOf = async (path: string): Promise<number> => (await stat(path)).mtimeMs
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

t.test('the lease times', async t => {
  t.equal(LEASE_RENEW_MS, 5_000)
  t.equal(LEASE_EXPIRY_MS, 30_000)
})

t.test('a lock of this machine in another pid namespace: taken over once not renewed for 30 s, refused while renewed', { skip: noLease }, async t => {
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  // the old container's gateway: pid 1 in its namespace, as it always is, renewing every 5 s
  const restarted = { ...HERE, pid: 1, pidns: OTHER_NS, since: SINCE, start: '1', nonce: 'restarted', lease: 5_000 }

  await writeLock(lock, restarted, 20_000)
  const err = await lockFolder(dir).then(async held => { await held.release(); return undefined }, (e: unknown) => e)
  t.match(err, { code: 'GOVEX_ERR_CONFLICT', message: `in use by process 1 on ${hostname()} since ${SINCE} (${lock})` }, 'renewed 20 s ago: refused')
  t.match((err as Error | undefined)?.message, /on this machine in another pid namespace \(another container with this host name, or this one before it restarted\) and renewed its lock 2\d(\.\d)? s ago: a gateway that is gone stops renewing it, and a start 30 s after the last renewal takes it over$/)
  t.notMatch((err as Error | undefined)?.message, 'delete', 'no deleting by hand')
  t.same(await folderLockHolder(dir), { pid: 1, host: hostname(), since: SINCE }, 'folderLockHolder: live, and known to be (no `unknown`)')
  t.match(await lockOf(dir), { nonce: 'restarted' }, 'its lock is left as it was')

  await writeLock(lock, restarted, LEASE_EXPIRY_MS + 1_000)
  t.equal(await folderLockHolder(dir), undefined, 'not renewed for 31 s: folderLockHolder names no holder')
  const taken = await lockFolder(dir)
  t.match(await lockOf(dir), { pid: process.pid, host: hostname(), pidns: HERE.pidns, machine: createHmac('sha256', HERE.machine ?? '').update('govex.lock').digest('hex'), lease: LEASE_RENEW_MS }, 'taken over; the new lock says it keeps a lease')
  await taken.release()

  // a gateway of a govex version before the lease never renews its lock: however old, it proves nothing
  const { lease, ...leaseless } = restarted
  t.equal(lease, 5_000)
  await writeLock(lock, { ...leaseless, nonce: 'older' }, 3_600_000)
  await t.rejects(lockFolder(dir), { code: 'GOVEX_ERR_CONFLICT', message: `(it is in another pid namespace (${OTHER_NS}), as in another container with this host name): if it is gone, delete ${lock} and start again` })
  t.match(await folderLockHolder(dir), { pid: 1, unknown: /another pid namespace/ })
  // nor does a lease renewed less often than one expires here
  await writeLock(lock, { ...restarted, nonce: 'slow', lease: LEASE_EXPIRY_MS }, 3_600_000)
  await t.rejects(lockFolder(dir), { code: 'GOVEX_ERR_CONFLICT', message: `delete ${lock} and start again` })

  // a lock that recorded no pid namespace, on this machine: its lease tells too
  const { pidns, ...unplaced } = restarted
  t.equal(pidns, OTHER_NS)
  await writeLock(lock, { ...unplaced, nonce: 'unplaced' }, 1_000)
  await t.rejects(lockFolder(dir), { code: 'GOVEX_ERR_CONFLICT', message: /renewed its lock 1(\.\d)? s ago/ })
  await writeLock(lock, { ...unplaced, nonce: 'unplaced' }, LEASE_EXPIRY_MS + 1_000)
  const again = await lockFolder(dir)
  t.match(await lockOf(dir), { pid: process.pid })
  await again.release()
})

t.test('a lock of another host or another machine is refused however old, with delete-by-hand advice', async t => {
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  const old = 3_600_000
  await writeLock(lock, { ...HERE, pid: 1, host: 'other-host.example', pidns: OTHER_NS, since: SINCE, nonce: 'far', lease: 5_000 }, old)
  await t.rejects(lockFolder(dir), { code: 'GOVEX_ERR_CONFLICT', message: `(it is on another host): if it is gone, delete ${lock} and start again` })
  t.same(await folderLockHolder(dir), { pid: 1, host: 'other-host.example', since: SINCE, unknown: 'it is on another host' })

  const machine = 'f'.repeat(32)
  await writeLock(lock, { ...HERE, pid: 1, machine, pidns: OTHER_NS, since: SINCE, nonce: 'machine', lease: 5_000 }, old)
  await t.rejects(lockFolder(dir), { code: 'GOVEX_ERR_CONFLICT', message: `(it is on another machine with this host name (another /etc/machine-id recorded)): if it is gone, delete ${lock}` })
  t.match(await folderLockHolder(dir), { pid: 1, unknown: 'it is on another machine with this host name (another /etc/machine-id recorded)' })

  // no machine id recorded: not known to be this machine, so no lease
  const { machine: mine, ...noMachine } = HERE
  t.ok(mine === undefined || typeof mine === 'string')
  await writeLock(lock, { ...noMachine, pid: 1, pidns: OTHER_NS, since: SINCE, nonce: 'nomachine', lease: 5_000 }, old)
  await t.rejects(lockFolder(dir), { code: 'GOVEX_ERR_CONFLICT', message: `if it is gone, delete ${lock} and start again` })
  t.match(await lockOf(dir), { nonce: 'nomachine' }, 'its lock is left as it was')
})

t.test('a takeover claim of this machine in another pid namespace follows the same rule', { skip: noLease }, async t => {
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  const claim = `${lock}.dead.takeover`
  const gone = spawn(process.execPath, ['-e', '0'])
  await new Promise(resolve => gone.once('exit', resolve))
  // a dead holder of this namespace, and the claim on it of a starter in the old container
  const dead = { ...HERE, pid: gone.pid ?? 0, since: SINCE, start: '1', nonce: 'dead' }
  const claimant = { ...HERE, pid: 1, pidns: OTHER_NS, since: SINCE, start: '1', nonce: 'claim', lease: 5_000 }

  await writeLock(lock, dead, 0)
  await writeLock(claim, claimant, 2_000)
  // a live claimant finishes its takeover in a few file operations: waited for, then given up
  await t.rejects(lockFolder(dir), { code: 'GOVEX_ERR_CONFLICT', message: /could not be locked .* kept changing/ }, 'a claim made 2 s ago is a live starter\'s')
  t.ok(existsSync(claim), 'its claim is left')
  t.match(await lockOf(dir), { nonce: 'dead' })

  await writeLock(claim, claimant, LEASE_EXPIRY_MS + 1_000)
  const held = await lockFolder(dir)
  t.match(await lockOf(dir), { pid: process.pid }, 'a claim 31 s old is a dead starter\'s: cleared, the lock taken over')
  t.notOk(existsSync(claim), 'the dead claim is gone')
  await held.release()
})

t.test('a live holder renews its lock\'s mtime, and stops when the lock names another holder', async t => {
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  const holder = spawnLines(t, FIXTURE, [dir, '50/1000'])
  t.same(await holder.next(), { ready: holder.child.pid }, 'the store opened')
  const hourAgo = new Date(Date.now() - 3_600_000)
  await utimes(lock, hourAgo, hourAgo)
  let renewed = false
  for (let i = 0; i < 200 && !renewed; i++) {
    await sleep(25)
    renewed = Date.now() - await mtimeOf(lock) < 60_000
  }
  t.ok(renewed, 'the mtime set an hour back was renewed')

  // taken by hand meanwhile: the old holder renews another's lock no more
  await writeLock(lock, { ...HERE, pid: process.ppid, since: SINCE, nonce: 'byhand' }, 3_600_000)
  const before = await mtimeOf(lock)
  await sleep(500) // ten renewals
  t.equal(await mtimeOf(lock), before, 'not renewed')
  holder.child.stdin.end()
  t.same(await holder.next(), { closed: true })
  t.match(await lockOf(dir), { nonce: 'byhand' }, 'and its close left it in place')
})

t.test('in one process: the lease is renewed, through a failed renewal, until release()', async t => {
  let failing = 0
  const mod = await t.mockImport<typeof import('../src/store/file/folder-lock.js')>('../src/store/file/folder-lock.js', {
    'node:fs/promises': {
      ...fs,
      utimes: async (...args: Parameters<typeof utimes>) => {
        if (failing > 0) {
          failing--
          throw Object.assign(new Error('EIO: i/o error, utime'), { code: 'EIO' })
        }
        await utimes(...args)
      }
    }
  })
  mod.setLeaseForTests(20, 1000)
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  const held = await mod.lockFolder(dir)
  const hourAgo = new Date(Date.now() - 3_600_000)
  const renewed = async (): Promise<boolean> => {
    for (let i = 0; i < 200; i++) {
      if (Date.now() - await mtimeOf(lock) < 60_000) return true
      await sleep(10)
    }
    return false
  }
  failing = 3
  await utimes(lock, hourAgo, hourAgo)
  t.ok(await renewed(), 'renewed after three renewals failed')
  t.equal(failing, 0, 'they were tried')

  const text = await readFile(lock, 'utf8')
  await held.release()
  t.notOk(existsSync(lock), 'released')
  // the same lock put back by hand, an hour old: no timer renews it
  await writeFile(lock, text)
  await utimes(lock, hourAgo, hourAgo)
  await sleep(300)
  t.ok(Date.now() - await mtimeOf(lock) > 3_000_000, 'not renewed after release')

  // held again (the lock put back names a nonce no longer ours), then taken by hand
  const again = await mod.lockFolder(dir)
  t.match(await lockOf(dir), { pid: process.pid })
  t.not(await readFile(lock, 'utf8'), text, 'a lock of its own')
  await writeLock(lock, { ...HERE, pid: process.ppid, since: SINCE, nonce: 'byhand' }, 3_600_000)
  await sleep(300)
  t.ok(Date.now() - await mtimeOf(lock) > 3_000_000, 'another holder\'s lock is not renewed')
  await again.release()
  t.match(await lockOf(dir), { nonce: 'byhand' }, 'nor removed')
})

t.test('a lease read while the lock changes, or that cannot be read', { skip: noLease }, async t => {
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  await writeLock(lock, { ...HERE, pid: 1, pidns: OTHER_NS, since: SINCE, nonce: 'restarted', lease: 5_000 }, 1_000)
  // open() finds, every time, another holder than the one just read, then no file
  let opened = 0
  const replaced = await t.mockImport<typeof import('../src/store/file/folder-lock.js')>('../src/store/file/folder-lock.js', {
    'node:fs/promises': {
      ...fs,
      open: async (path: string, flags: string) => {
        if (path !== lock) return await fs.open(path, flags)
        if (++opened % 2 === 0) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' })
        const handle = await fs.open(path, flags)
        const text = JSON.stringify({ ...HERE, pid: 2, since: SINCE, nonce: `other${opened}` })
        return { stat: async () => await handle.stat(), readFile: async () => text, close: async () => { await handle.close() } }
      }
    }
  })
  await t.rejects(replaced.folderLockHolder(dir), { code: 'GOVEX_ERR_CONFLICT', message: `the data folder lock ${lock} kept changing; a gateway is starting on ${dir}: try again` })
  t.equal(opened, 10, 'looked again each time')

  const denied = await t.mockImport<typeof import('../src/store/file/folder-lock.js')>('../src/store/file/folder-lock.js', {
    'node:fs/promises': { ...fs, open: async () => { throw Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' }) } }
  })
  await t.rejects(denied.folderLockHolder(dir), { code: 'GOVEX_ERR_BAD_REQUEST', message: /cannot be read \(EACCES: permission denied, open\); give this process read access/ })

  const failing = await t.mockImport<typeof import('../src/store/file/folder-lock.js')>('../src/store/file/folder-lock.js', {
    'node:fs/promises': {
      ...fs,
      open: async (path: string, flags: string) => {
        const handle = await fs.open(path, flags)
        return {
          stat: async () => { throw Object.assign(new Error('EIO: i/o error, fstat'), { code: 'EIO' }) },
          readFile: async () => await handle.readFile('utf8'),
          close: async () => { await handle.close() }
        }
      }
    }
  })
  await t.rejects(failing.lockFolder(dir), { code: 'GOVEX_ERR_BAD_REQUEST', message: /cannot be read \(EIO: i\/o error, fstat\)/ })
  t.match(await lockOf(dir), { nonce: 'restarted' }, 'the lock is left as it was')
})

// real processes: the holder runs in a pid namespace of its own (unshare, as
// root), as a container's gateway does; it dies, and this process, in another
// namespace, takes the folder after the (shortened) lease
const noUnshare = noLease !== false ? noLease : spawnSync('unshare', ['--pid', '--fork', '--kill-child', 'true']).status !== 0 && 'unshare --pid is not allowed here (it needs root)'
t.test('a container restarted in a new pid namespace takes over its own lock once the lease ends', { skip: noUnshare }, async t => {
  const dir = await newDir()
  const child = spawn('unshare', ['--pid', '--fork', '--kill-child', process.execPath, ...process.execArgv, FIXTURE, dir, '50/1000'], { stdio: 'pipe' })
  const exited = new Promise(resolve => child.once('exit', resolve))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; if (out.includes('\n')) resolve() })
    child.once('exit', () => { reject(new Error(`the holder ended: ${out}`)) })
  })
  t.same(JSON.parse(out), { ready: 1 }, 'pid 1 in its namespace')
  t.not((await lockOf(dir)).pidns, HERE.pidns, 'its lock records its own namespace')

  const mod = await t.mockImport<typeof import('../src/store/file/folder-lock.js')>('../src/store/file/folder-lock.js')
  mod.setLeaseForTests(50, 1000)
  await sleep(1500) // longer than the lease: a live holder renewed it meanwhile
  await t.rejects(mod.lockFolder(dir), { code: 'GOVEX_ERR_CONFLICT', message: /in use by process 1 on .* renewed its lock/ }, 'live: refused')

  child.kill('SIGKILL') // --kill-child: the holder dies with it
  await exited
  const started = Date.now()
  let held: Awaited<ReturnType<typeof mod.lockFolder>> | undefined
  while (held === undefined && Date.now() - started < 10_000) {
    held = await mod.lockFolder(dir).catch(async () => { await sleep(100); return undefined })
  }
  t.ok(held, 'taken over once the lease ended')
  t.ok(Date.now() - started >= 500, 'not before')
  t.match(await lockOf(dir), { pid: process.pid })
  await held?.release()
})

t.test('a lock that cannot be read is a coded error saying what to do', async t => {
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  await mkdir(lock)
  const message = new RegExp(`^the data folder lock ${lock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} cannot be read \\(EISDIR[^)]*\\); give this process read access to it and its folder, or set store.dir to a folder this process can read and write$`)
  await t.rejects(folderLockHolder(dir), { code: 'GOVEX_ERR_BAD_REQUEST', message }, 'folderLockHolder')
  await t.rejects(lockFolder(dir), { code: 'GOVEX_ERR_BAD_REQUEST', message }, 'lockFolder')
  await rm(lock, { recursive: true })

  await writeFile(lock, JSON.stringify({ ...HERE, pid: 1, host: 'other-host.example', since: SINCE, nonce: 'far' }))
  const denied = async (): Promise<never> => { throw Object.assign(new Error(`EACCES: permission denied, open '${lock}'`), { code: 'EACCES' }) }
  const mod = await t.mockImport<typeof import('../src/store/file/folder-lock.js')>('../src/store/file/folder-lock.js', {
    'node:fs/promises': { ...fs, readFile: denied }
  })
  await t.rejects(mod.folderLockHolder(dir), { code: 'GOVEX_ERR_BAD_REQUEST', message: /cannot be read \(EACCES: permission denied, open .*\); give this process read access/ })
})
