// The embedded store is for one gateway process (ARCHITECTURE.md "Storage"),
// but nothing enforced it: two gateways on one config both started, each with
// its own in-memory state, and both appended seq 11 to the same chain. A file
// store opened for writing now owns its folder (<dir>/govex.lock): a second
// opener is refused with GOVEX_ERR_CONFLICT naming the holder, while the first
// keeps working; a holder that died (SIGKILL) or closed does not block the next
// start; readers (FileAuditLog.openReadOnly) never take the lock.
// Since then: a holder in another container with this host name (its pid is
// of another pid namespace) is refused, not probed as ours and taken over.
// Two starters that both found a dead starter's claim could both delete it,
// one deleting the other's live claim, and both go on to hold the folder;
// removing a dead claim is one-winner now.
// A file system without hard links is named as such (it read as a folder
// this process cannot write), and dead starters' temp files and claims are
// swept once the lock is held.
import t from 'tap'
import type { Test } from 'tap'
import { AsyncLocalStorage } from 'node:async_hooks'
import { spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { existsSync, readFileSync, readlinkSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openFileStores } from '../src/store/open.js'
import { FileAuditLog } from '../src/store/file/audit-log.js'
import { adminEntry } from '../src/store/audit-contract.js'
import { isGovexError } from '../src/codes.js'
import { folderLockHolder } from '../src/index.js'
import { spawnLines, type LineChild } from './helpers/child-lines.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/hold-data-folder.ts', import.meta.url))
const GW = 'tj.gw.extranet-1'
const SINCE = '2026-11-28T10:00:00.000Z'

// Each test starts stores in processes of their own (several seconds each on a
// busy machine): more than the suite's 60 s per file.
t.setTimeout(360_000)

const root = await mkdtemp(join(tmpdir(), 'govex-folder-lock-'))
t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
let dirs = 0
const newDir = (): string => join(root, `d${++dirs}`)

const attempt = <T>(read: () => T): T | undefined => { try { return read() } catch { return undefined } }
/**
 * Where this process runs, as a lock made here records it (read here, not
 * taken from the code under test): a hand-written lock "of this host" needs it.
 */
const HERE = {
  host: hostname(),
  pidns: attempt(() => readlinkSync('/proc/self/ns/pid')),
  machine: attempt(() => readFileSync('/etc/machine-id', 'utf8').trim()) || undefined
}

/** What a lock records of this machine's id (a real one): never the id itself. */
const machineHash = HERE.machine !== undefined && /^[0-9a-f]{32}$/.test(HERE.machine) && !/^0+$/.test(HERE.machine)
  ? createHmac('sha256', HERE.machine).update('govex.lock').digest('hex')
  : undefined

/**
 * A pid whose process ended, as a holder of this host records it. Its start
 * time is one no process started now has, so a pid reused since is no holder.
 */
async function deadHolder (): Promise<typeof HERE & { pid: number, since: string, start: string }> {
  const gone = spawn(process.execPath, ['-e', '0'])
  await new Promise(resolve => gone.once('exit', resolve))
  return { ...HERE, pid: gone.pid ?? 0, since: SINCE, start: '1' }
}

function hold (t: Test, dir: string): LineChild {
  return spawnLines(t, FIXTURE, [dir])
}

async function started (t: Test, dir: string): Promise<LineChild> {
  const h = hold(t, dir)
  const first = await h.next()
  t.same(first, { ready: h.child.pid }, 'the store opened')
  return h
}

const lockOf = async (dir: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(dir, 'govex.lock'), 'utf8')) as Record<string, unknown>

async function append (h: LineChild): Promise<unknown> {
  h.child.stdin.write('append\n')
  return (await h.next()).seq
}

t.test('a second process is refused, naming the holder, while the first keeps writing', async t => {
  const dir = newDir()
  const first = await started(t, dir)
  t.equal(await append(first), 1)

  const second = hold(t, dir)
  const refused = await second.next()
  t.equal(refused.code, 'GOVEX_ERR_CONFLICT')
  if (refused.code === undefined) second.child.kill('SIGKILL') // it opened: the old code
  t.equal(await second.exited, 3, 'the second opener stops')
  const message = String(refused.message)
  t.match(message, `process ${first.child.pid ?? 0} on ${hostname()} since 20`, 'names the holder: pid, host, since when')
  t.match(message, 'stop the other gateway')
  t.match(message, 'store.dir')
  t.match(message, 'Redis store')

  // the holder's chain goes on unbroken: nobody else appended to it
  t.equal(await append(first), 2)
  const reader = await FileAuditLog.openReadOnly({ dir })
  t.teardown(async () => { await reader.close() })
  const verified = await reader.verify()
  t.equal(verified.ok, true, 'the chain verifies')
  t.equal(verified.checked, 2)
})

t.test('a holder killed with SIGKILL does not block the next start', async t => {
  const dir = newDir()
  const first = await started(t, dir)
  t.equal(await append(first), 1)
  first.child.kill('SIGKILL')
  await first.exited
  const left = await lockOf(dir)
  t.match(left, { pid: first.child.pid }, 'its lock is left behind')

  const next = await started(t, dir)
  t.equal(await append(next), 2, 'the next process writes the chain on')
  const taken = await lockOf(dir)
  t.match(taken, { pid: next.child.pid }, 'the lock names the next process')
  t.not(taken.nonce, left.nonce, 'a lock of its own, not the old one')
  // and it holds the folder in turn
  const third = hold(t, dir)
  t.match(await third.next(), { code: 'GOVEX_ERR_CONFLICT', message: `process ${next.child.pid ?? 0} on` })
})

t.test('after a clean close the folder opens again at once', async t => {
  const dir = newDir()
  const first = await started(t, dir)
  const held = await lockOf(dir)
  first.child.stdin.end()
  t.same(await first.next(), { closed: true })
  t.equal(await first.exited, 0)
  // nothing left to judge dead: the next start makes its lock at its first try
  t.notOk(existsSync(join(dir, 'govex.lock')), 'the close removed the lock')
  const next = await started(t, dir)
  t.not((await lockOf(dir)).nonce, held.nonce)
  t.equal(await append(next), 1)
})

t.test('many starters on a dead holder\'s lock and a dead starter\'s claim: exactly one takes it over', async t => {
  const dir = newDir()
  const first = await started(t, dir)
  first.child.kill('SIGKILL')
  await first.exited
  const nonce = String((await lockOf(dir)).nonce)
  await writeFile(join(dir, `govex.lock.${nonce}.takeover`), JSON.stringify({ ...await deadHolder(), nonce: 'claim' }))
  const starters = [0, 1, 2, 3].map(() => hold(t, dir))
  const answers = await Promise.all(starters.map(async s => await s.next()))
  const ready = answers.filter(a => 'ready' in a)
  t.equal(ready.length, 1, 'one starter holds the folder')
  const winner = ready[0]?.ready
  for (const a of answers.filter(a => !('ready' in a))) t.match(a, { code: 'GOVEX_ERR_CONFLICT', message: `process ${String(winner)} on` })
  t.match(await lockOf(dir), { pid: winner })
})

t.test('in one process: a second open is refused until the first closes', async t => {
  const dir = newDir()
  const stores = await openFileStores({ dir, gatewayId: GW })
  await t.rejects(openFileStores({ dir, gatewayId: GW }), { code: 'GOVEX_ERR_CONFLICT', message: /in use by this process since 20/ })
  await stores.audit.append(adminEntry())
  await stores.close()
  const again = await openFileStores({ dir, gatewayId: GW })
  t.equal((await again.audit.append(adminEntry())).seq, 2)
  await again.close()
  await again.close() // closing twice releases once
})

t.test('readers beside a running holder take no lock', async t => {
  const dir = newDir()
  const first = await started(t, dir)
  t.equal(await append(first), 1)
  const before = await readFile(join(dir, 'govex.lock'), 'utf8')
  const reader = await FileAuditLog.openReadOnly({ dir })
  t.equal((await reader.verify()).checked, 1)
  await reader.close()
  t.equal(await readFile(join(dir, 'govex.lock'), 'utf8'), before, 'the holder\'s lock is untouched')
  t.equal(await append(first), 2, 'the holder still writes')
})

t.test('a lock of another host is never taken over; a lock of this host\'s dead pid is', async t => {
  const dir = newDir()
  const stores = await openFileStores({ dir, gatewayId: GW })
  await stores.close()
  const lock = join(dir, 'govex.lock')
  await writeFile(lock, JSON.stringify({ pid: 1, host: 'other-host.example', since: SINCE, nonce: 'n1' }))
  const err = await openFileStores({ dir, gatewayId: GW }).catch((e: unknown) => e)
  t.ok(isGovexError(err) && err.code === 'GOVEX_ERR_CONFLICT', 'refused')
  t.match((err as Error).message, `in use by process 1 on other-host.example since ${SINCE}`)
  t.match((err as Error).message, `(it is on another host): if it is gone, delete ${lock} and start again`)

  // a pid that is gone on this host
  await writeFile(lock, JSON.stringify({ ...await deadHolder(), nonce: 'n2' }))
  const taken = await openFileStores({ dir, gatewayId: GW })
  t.match(await lockOf(dir), { pid: process.pid })
  await taken.close()

  await writeFile(lock, 'not json')
  await t.rejects(openFileStores({ dir, gatewayId: GW }), { code: 'GOVEX_ERR_CONFLICT', message: /names no holder; if no gateway uses this folder, delete it/ })
})

t.test('a holder in another pid namespace, or on another machine with this host name, is refused, not taken over', async t => {
  // Two containers with one host name on one volume: the other's pid means
  // nothing here (gone in our namespace, or pid 1 in both), so it cannot be
  // probed, and its lock stays until the operator deletes it.
  const dir = newDir()
  const stores = await openFileStores({ dir, gatewayId: GW })
  await stores.close()
  const lock = join(dir, 'govex.lock')
  const dead = await deadHolder()
  const OTHER_NS = 'pid:[4026532999]'
  const refused = async (holder: object, why: string | RegExp): Promise<void> => {
    await writeFile(lock, JSON.stringify(holder))
    const err = await openFileStores({ dir, gatewayId: GW }).then(async opened => { await opened.close(); return undefined }, (e: unknown) => e)
    t.match(err, { code: 'GOVEX_ERR_CONFLICT', message: `in use by process ${(holder as { pid: number }).pid} on ${hostname()} since ${SINCE}` })
    t.match((err as Error | undefined)?.message, why)
    t.match((err as Error | undefined)?.message, `: if it is gone, delete ${lock} and start again`)
    t.same(JSON.parse(await readFile(lock, 'utf8')), JSON.parse(JSON.stringify(holder)), 'its lock is left as it was')
  }
  await refused({ ...dead, pidns: OTHER_NS, nonce: 'ns' }, `another pid namespace (${OTHER_NS}), as in another container with this host name`)
  // pid 1 here and pid 1 there: not "this process", and not an earlier process of ours
  await refused({ ...HERE, pid: process.pid, pidns: OTHER_NS, since: SINCE, nonce: 'one' }, 'another pid namespace')
  await refused({ ...dead, machine: 'f'.repeat(32), nonce: 'machine' }, 'another machine with this host name (another /etc/machine-id recorded)')
  if (HERE.pidns !== undefined) {
    // a lock that does not say where it was made is not taken over on a guess
    const { pidns, ...unplaced } = dead
    t.equal(pidns, HERE.pidns)
    await refused({ ...unplaced, nonce: 'unplaced' }, 'another pid namespace (not recorded)')
  }
  t.match(await folderLockHolder(dir), { pid: dead.pid }, 'folderLockHolder counts it live too')

  // the same namespace and machine: probed, found dead, taken over
  await writeFile(lock, JSON.stringify({ ...dead, nonce: 'here' }))
  const taken = await openFileStores({ dir, gatewayId: GW })
  t.match(await lockOf(dir), { pid: process.pid, host: hostname(), pidns: HERE.pidns, machine: machineHash })
  await taken.close()
})

t.test('a live pid that is another process now, a takeover left half done, a lock replaced by hand', async t => {
  const dir = newDir()
  const stores = await openFileStores({ dir, gatewayId: GW })
  await stores.close()
  const lock = join(dir, 'govex.lock')

  // our parent lives; a lock naming its pid with another start time is an old holder's
  if (existsSync('/proc/self/stat')) { // Linux: start times are compared
    await writeFile(lock, JSON.stringify({ ...HERE, pid: process.ppid, since: SINCE, nonce: 'old', start: '1' }))
    const taken = await openFileStores({ dir, gatewayId: GW })
    await taken.close()
  }
  // the same pid with no start time recorded is taken as alive
  await writeFile(lock, JSON.stringify({ ...HERE, pid: process.ppid, since: SINCE, nonce: 'live' }))
  await t.rejects(openFileStores({ dir, gatewayId: GW }), { code: 'GOVEX_ERR_CONFLICT', message: `in use by process ${process.ppid}` })

  // a dead holder, and a claim on it whose maker died too: both are cleared
  const dead = await deadHolder()
  await writeFile(lock, JSON.stringify({ ...dead, nonce: 'dead' }))
  await writeFile(`${lock}.dead.takeover`, JSON.stringify({ ...dead, nonce: 'claim' }))
  const after = await openFileStores({ dir, gatewayId: GW })
  t.match(await lockOf(dir), { pid: process.pid })

  // replaced by hand while open: closing leaves the other lock in place
  await writeFile(lock, JSON.stringify({ ...dead, nonce: 'other' }))
  await after.close()
  t.match(await lockOf(dir), { nonce: 'other' })

  // a nonce that could name a path is no holder
  await writeFile(lock, JSON.stringify({ ...dead, nonce: '../x' }))
  await t.rejects(openFileStores({ dir, gatewayId: GW }), { code: 'GOVEX_ERR_CONFLICT', message: /names no holder/ })
})

t.test('dead starters\' claims on claims are cleared in turn, and what they left is swept once the lock is held', async t => {
  const dir = newDir()
  await mkdir(dir)
  const dead = await deadHolder()
  const lock = join(dir, 'govex.lock')
  // a dead holder; the claim on it of a starter that died; the claim on that
  // claim of another that died; a claim and temp files that dead starters
  // left earlier; a live starter's claim, and files that are not the lock's
  await writeFile(lock, JSON.stringify({ ...dead, nonce: 'dead' }))
  await writeFile(`${lock}.dead.takeover`, JSON.stringify({ ...dead, nonce: 'c1' }))
  await writeFile(`${lock}.c1.takeover`, JSON.stringify({ ...dead, nonce: 'c2' }))
  await writeFile(`${lock}.long-gone.takeover`, JSON.stringify({ ...dead, nonce: 'c3' }))
  await writeFile(`${lock}.0a1b2c3d4e5f.tmp`, '{"pid":')
  await writeFile(`${lock}.dead.takeover.0a1b2c3d4e5f.tmp`, '')
  const live = { ...HERE, pid: process.ppid, since: SINCE, nonce: 'c4' }
  await writeFile(`${lock}.starting.takeover`, JSON.stringify(live))
  await writeFile(join(dir, 'notes.tmp'), 'mine')
  const stores = await openFileStores({ dir, gatewayId: GW })
  t.teardown(async () => { await stores.close() })
  t.match(await lockOf(dir), { pid: process.pid })
  const left = (await readdir(dir)).filter(name => !(name === 'audit' || name === 'members' || name === 'directories' || name === 'disclosures' || name === 'plans')).sort()
  t.same(left, ['govex.lock', 'govex.lock.starting.takeover', 'notes.tmp'], 'the dead starters\' files are gone; others are left')
})

t.test('a takeover claim that names no holder is reported, naming the file to delete', async t => {
  const dir = newDir()
  await mkdir(dir)
  const lock = join(dir, 'govex.lock')
  await writeFile(lock, JSON.stringify({ ...await deadHolder(), nonce: 'dead' }))
  await writeFile(`${lock}.dead.takeover`, 'garbage')
  await t.rejects(openFileStores({ dir, gatewayId: GW }), {
    code: 'GOVEX_ERR_CONFLICT',
    message: `has a takeover claim ${lock}.dead.takeover that names no holder; if no gateway is starting on this folder, delete it and start again`
  })
})

t.test('two starters that both found a dead starter\'s claim: neither removes what the other made', async t => {
  // Removing a dead starter's claim was read, then delete: X and Y both read
  // the dead claim; X deleted it and made its own; Y then deleted X's live
  // claim, and both went into the takeover, where one could remove the lock
  // the other had just made. Here Y, having read the dead claim, waits until
  // X's claim is there before it goes on; X waits until Y has read it.
  const dir = newDir()
  await mkdir(dir)
  const lock = join(dir, 'govex.lock')
  const claim = `${lock}.dead.takeover`
  const dead = await deadHolder()
  await writeFile(lock, JSON.stringify({ ...dead, nonce: 'dead' }))
  await writeFile(claim, JSON.stringify({ ...dead, nonce: 'claim' }))

  const starter = new AsyncLocalStorage<string>()
  const nonceIn = async (path: string): Promise<unknown> => {
    try {
      return (JSON.parse(await fs.readFile(path, 'utf8')) as { nonce?: unknown }).nonce
    } catch {
      return undefined
    }
  }
  const until = async (ok: () => Promise<boolean> | boolean): Promise<void> => {
    for (let i = 0; i < 500 && !(await ok()); i++) await new Promise(resolve => setTimeout(resolve, 2))
  }
  const maker = new Map<unknown, string>() // nonce → the starter that made the file naming it
  const removed: string[] = []
  let yRead = false
  const { lockFolder } = await t.mockImport<typeof import('../src/store/file/folder-lock.js')>('../src/store/file/folder-lock.js', {
    'node:fs/promises': {
      ...fs,
      async link (from: string, to: string) {
        const nonce = await nonceIn(from)
        await fs.link(from, to)
        const who = starter.getStore()
        if (who !== undefined) maker.set(nonce, who)
      },
      async readFile (path: string, encoding: BufferEncoding) {
        const text = await fs.readFile(path, encoding)
        if (starter.getStore() === 'Y' && path === claim && text.includes('"nonce":"claim"')) {
          yRead = true
          await until(async () => { const now = await nonceIn(claim); return now !== undefined && now !== 'claim' })
        }
        return text
      },
      async unlink (path: string) {
        const who = starter.getStore()
        if (who === 'X' && path === claim) await until(() => yRead)
        if (who !== undefined && !path.endsWith('.tmp')) {
          const made = maker.get(await nonceIn(path))
          if (made !== undefined && made !== who) removed.push(`${who} removed ${basename(path)}, made by ${made}`)
        }
        await fs.unlink(path)
      }
    }
  })
  const results = await Promise.allSettled(['X', 'Y'].map(async name => await starter.run(name, async () => await lockFolder(dir))))
  t.ok(yRead, 'Y read the dead claim')
  t.same(removed, [], 'no starter removed a lock or claim another live starter made')
  t.equal(results.filter(r => r.status === 'fulfilled').length, 1, 'one holds the folder')
  for (const r of results) {
    if (r.status === 'rejected') t.match(r.reason, { code: 'GOVEX_ERR_CONFLICT', message: /in use by this process/ })
    else await r.value.release()
  }
})

t.test('a file system without hard links is named as such', async t => {
  const dir = newDir()
  await mkdir(dir)
  const { lockFolder } = await t.mockImport<typeof import('../src/store/file/folder-lock.js')>('../src/store/file/folder-lock.js', {
    'node:fs/promises': { ...fs, link: async () => { throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' }) } }
  })
  await t.rejects(lockFolder(dir), {
    code: 'GOVEX_ERR_BAD_REQUEST',
    message: `the data folder ${dir} is on a file system that does not support hard links (link: EPERM)`
  })
  await t.rejects(lockFolder(dir), { message: /put store.dir on a local file system \(ext4, XFS, APFS, NTFS\) or use the Redis store/ })
  t.same(await readdir(dir), [], 'its temp file is gone')
})

t.test('concurrent opens in one process: one holds the folder', async t => {
  const dir = newDir()
  const results = await Promise.allSettled([0, 1, 2].map(async () => await openFileStores({ dir, gatewayId: GW })))
  const opened = results.filter(r => r.status === 'fulfilled')
  t.equal(opened.length, 1)
  for (const r of results) {
    if (r.status === 'rejected') t.match(r.reason, { code: 'GOVEX_ERR_CONFLICT', message: /in use by this process/ })
    else await r.value.close()
  }
})

t.test('folderLockHolder names the live holder only', async t => {
  const dir = newDir()
  t.equal(await folderLockHolder(dir), undefined, 'no folder')
  const stores = await openFileStores({ dir, gatewayId: GW })
  const held = await folderLockHolder(dir)
  t.match(held, { pid: process.pid, host: hostname(), since: /^20/ }, 'this process holds it')
  t.same(Object.keys(held ?? {}).sort(), ['host', 'pid', 'since'])
  await stores.close()
  t.equal(await folderLockHolder(dir), undefined, 'released')
  const lock = join(dir, 'govex.lock')
  await writeFile(lock, JSON.stringify({ ...await deadHolder(), nonce: 'dead' }))
  t.equal(await folderLockHolder(dir), undefined, 'a dead holder is none')
  await writeFile(lock, JSON.stringify({ pid: 1, host: 'other-host.example', since: SINCE, nonce: 'far' }))
  t.same(await folderLockHolder(dir), { pid: 1, host: 'other-host.example', since: SINCE, unknown: 'it is on another host' }, 'another host\'s holder is live, and cannot be probed')
  await writeFile(lock, 'not json')
  t.equal(await folderLockHolder(dir), undefined, 'a lock naming no holder')
  t.equal(await folderLockHolder(lock), undefined, 'a file, not a folder')
})

t.test('fix-lock-other-host-same-name: without a machine id, another boot id is another host, not a reboot', async t => {
  // Two hosts sharing a volume, one host name (a fixed container hostname),
  // the host's pid namespace on both (docker --pid=host), no /etc/machine-id
  // (most container images): their boot ids differ, which proved "this host
  // rebooted" and took over the other host's live lock.
  if (process.platform !== 'linux') return t.skip('boot ids are read on Linux only')
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  const noMachineId = async (): Promise<typeof import('../src/store/file/folder-lock.js')> =>
    await t.mockImport<typeof import('../src/store/file/folder-lock.js')>('../src/store/file/folder-lock.js', {
      'node:fs': {
        ...await import('node:fs'),
        readFileSync: (path: string, ...rest: unknown[]) => {
          if (path === '/etc/machine-id') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' })
          return (readFileSync as (...args: unknown[]) => unknown)(path, ...rest)
        }
      }
    })
  const { lockFolder } = await noMachineId()
  const dir = newDir()
  await mkdir(dir)
  const lock = join(dir, 'govex.lock')
  const dead = await deadHolder()
  const { machine, ...noMachine } = dead
  t.ok(machine === undefined || typeof machine === 'string')
  await writeFile(lock, JSON.stringify({ ...noMachine, boot: '00000000-0000-4000-8000-000000000000', nonce: 'otherhost' }))
  await t.rejects(lockFolder(dir), { code: 'GOVEX_ERR_CONFLICT', message: /another kernel boot with this host name/ }, 'refused, not taken over')
  t.match(await lockOf(dir), { nonce: 'otherhost' }, 'its lock is left as it was')

  // the same boot (this host, no machine id): probed, found dead, taken over
  await writeFile(lock, JSON.stringify({ ...noMachine, boot, nonce: 'sameboot' }))
  const taken = await lockFolder(dir)
  t.match(await lockOf(dir), { pid: process.pid })
  await taken.release()

  // with a real machine id recorded on both sides, another boot id is this
  // machine rebooted if the lock is older than this boot: taken over. (The
  // machine id and boot time set for the test: this runs on any machine;
  // fix-lock-machine-id-not-proof has the rest.)
  const real = await t.mockImport<typeof import('../src/store/file/folder-lock.js')>('../src/store/file/folder-lock.js')
  const machineId = '0123456789abcdef0123456789abcdef'
  real.setPlaceForTests({ machineId, bootTime: Date.parse(SINCE) / 1000 + 60 })
  const hashed = createHmac('sha256', machineId).update('govex.lock').digest('hex')
  await writeFile(lock, JSON.stringify({ ...noMachine, machine: hashed, boot: '00000000-0000-4000-8000-000000000000', nonce: 'rebooted' }))
  const after = await real.lockFolder(dir)
  t.match(await lockOf(dir), { pid: process.pid, machine: hashed })
  await after.release()
  // made after this boot: another machine with that machine id, refused
  real.setPlaceForTests({ machineId, bootTime: Date.parse(SINCE) / 1000 - 60 })
  await writeFile(lock, JSON.stringify({ ...noMachine, machine: hashed, boot: '00000000-0000-4000-8000-000000000000', nonce: 'cloned' }))
  await t.rejects(real.lockFolder(dir), { code: 'GOVEX_ERR_CONFLICT', message: /took the folder after this machine booted/ })
})
