// The data folder lock took a holder under another boot id for this machine
// before it rebooted whenever the host name and /etc/machine-id matched; but
// machine ids are often not unique (one baked into an image, "uninitialized",
// cloned VMs), and under docker --pid=host the pid namespace is the same on
// every host: host B took host A's live lock and both appended the same seq.
// Another boot id is a reboot now only for a real machine id (32 lowercase hex,
// not all zeros) and a holder that took the folder (and, keeping a lease, last
// renewed it) before this kernel booted; the lease too needs a real machine id
// and our boot id. The lock recorded the raw machine id in a file readable by
// all, and a refusal printed another machine's id: it records an app-specific
// HMAC of it now (a raw id in an older lock is hashed when read), and lock
// and claim files are 0600. A lock of a version before pid namespaces and
// machine ids were recorded was refused forever after a crash; with our boot
// id and host name it is probed as before. setPlaceForTests makes every case
// run on any machine; the last tests use this machine's own identity.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { readFileSync, readlinkSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { basename, join } from 'node:path'
import type { PlaceForTests } from '../src/store/file/folder-lock.js'
import { tempFolders } from './helpers/temp-folders.js'

type LockModule = typeof import('../src/store/file/folder-lock.js')

t.setTimeout(120_000)

const newDir = await tempFolders(t, 'lock-machine')

const HOST = 'govex-gw'
const BAKED = '0123456789abcdef0123456789abcdef' // one machine id baked into an image
const OUR_BOOT = '11111111-1111-4111-8111-111111111111'
const OTHER_BOOT = '22222222-2222-4222-8222-222222222222'
const NS = 'pid:[4026531836]'
const OTHER_NS = 'pid:[4026532999]'
const BOOTED = Date.parse('2026-11-28T12:00:00.000Z') // when "this" kernel booted
const BEFORE = new Date(BOOTED - 60_000).toISOString()
const AFTER = new Date(BOOTED + 60_000).toISOString()
const hashOf = (id: string): string => createHmac('sha256', id).update('govex.lock').digest('hex')

/** A fresh copy of the lock module that says it runs at `place`. */
async function at (t: Test, place: PlaceForTests, mocks: Record<string, unknown> = {}): Promise<LockModule> {
  const mod = await t.mockImport<LockModule>('../src/store/file/folder-lock.js', mocks)
  mod.setPlaceForTests({ host: HOST, boot: OUR_BOOT, pidns: NS, machineId: BAKED, bootTime: BOOTED / 1000, ...place })
  return mod
}

/** A pid whose process ended (so a probe finds it gone). */
async function deadPid (): Promise<number> {
  const gone = spawn(process.execPath, ['-e', '0'])
  await new Promise(resolve => gone.once('exit', resolve))
  return gone.pid ?? 0
}

async function writeLock (path: string, holder: object, ageMs = 0): Promise<void> {
  await writeFile(path, JSON.stringify(holder))
  const when = new Date(Date.now() - ageMs)
  await utimes(path, when, when)
}
const lockOf = async (dir: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(dir, 'govex.lock'), 'utf8')) as Record<string, unknown>
const messageOf = async (p: Promise<{ release: () => Promise<void> }>): Promise<string> =>
  await p.then(async held => { await held.release(); return 'taken over' }, (e: Error & { code?: string }) => `${e.code ?? ''}: ${e.message}`)

t.test('another boot id with an equal machine id: a reboot only if the holder took the folder before this kernel booted', async t => {
  const mod = await at(t, {})
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  const pid = await deadPid() // gone here; on the other host it may well run
  const other = { pid, host: HOST, pidns: NS, boot: OTHER_BOOT, start: '1', machine: hashOf(BAKED) }

  // host A runs since after B booted: another machine with the baked id
  await writeLock(lock, { ...other, since: AFTER, nonce: 'hostA' })
  const refused = await messageOf(mod.lockFolder(dir))
  t.match(refused, /^GOVEX_ERR_CONFLICT: the data folder .* is in use by process \d+ on govex-gw since 2026-11-28T12:01:00.000Z/)
  t.match(refused, 'it runs under another kernel boot with this host name and machine id, and took the folder after this machine booted: another machine with a copied machine id')
  t.match(refused, `if it is gone, delete ${lock} and start again`)
  t.match(await lockOf(dir), { nonce: 'hostA' }, 'its lock is left as it was')
  t.match(await mod.folderLockHolder(dir), { pid, unknown: /took the folder after this machine booted/ })
  // within the slack of the boot time: not known to be before it
  await writeLock(lock, { ...other, since: new Date(BOOTED - 1_000).toISOString(), nonce: 'close' })
  t.match(await messageOf(mod.lockFolder(dir)), /^GOVEX_ERR_CONFLICT: .*took the folder after this machine booted/)
  // a lease does not make another machine's lock ours to judge by its mtime
  await writeLock(lock, { ...other, pidns: OTHER_NS, since: AFTER, nonce: 'leased', lease: 5_000 }, 3_600_000)
  t.match(await messageOf(mod.lockFolder(dir)), /^GOVEX_ERR_CONFLICT: .*took the folder after this machine booted.*delete/, 'an old mtime across boots proves nothing')

  // made before this machine booted: this machine rebooted, the holder is gone
  await writeLock(lock, { ...other, since: BEFORE, nonce: 'rebooted' })
  t.equal(await mod.folderLockHolder(dir), undefined, 'folderLockHolder: none')
  t.equal(await messageOf(mod.lockFolder(dir)), 'taken over')
  // and in another pid namespace, keeping a lease last renewed before the boot
  await writeLock(lock, { ...other, pidns: OTHER_NS, since: BEFORE, nonce: 'rebootedns', lease: 5_000 }, Date.now() - BOOTED + 10_000)
  t.equal(await messageOf(mod.lockFolder(dir)), 'taken over')
  // but renewed since this machine booted: it ran meanwhile, so on another machine
  await writeLock(lock, { ...other, pidns: OTHER_NS, since: BEFORE, nonce: 'renewed', lease: 5_000 }, 1_000)
  t.match(await messageOf(mod.lockFolder(dir)), /^GOVEX_ERR_CONFLICT: .*renewed its lock after this machine booted: another machine with a copied machine id.*delete/)

  // no boot time known (not Linux): another boot id is never a reboot
  const noBootTime = await at(t, { bootTime: undefined })
  await writeLock(lock, { ...other, since: BEFORE, nonce: 'unknownboot' })
  t.match(await messageOf(noBootTime.lockFolder(dir)), /^GOVEX_ERR_CONFLICT: .*another kernel boot/)
})

t.test('a machine id that is not real proves nothing: no reboot, no lease', async t => {
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  const pid = await deadPid()
  for (const id of ['uninitialized', '0'.repeat(32), 'ABCDEF0123456789ABCDEF0123456789', 'short']) {
    const mod = await at(t, { machineId: id })
    // a lock that recorded it raw (an older version): another boot, made before ours
    await writeLock(lock, { pid, host: HOST, pidns: NS, boot: OTHER_BOOT, start: '1', machine: id, since: BEFORE, nonce: 'boot' })
    t.match(await messageOf(mod.lockFolder(dir)), /^GOVEX_ERR_CONFLICT: .*no machine id to tell a reboot from another host/, `${id}: another boot id is not a reboot`)
    // our boot, another pid namespace, a lease not renewed for an hour: no lease across machines that may differ
    await writeLock(lock, { pid: 1, host: HOST, pidns: OTHER_NS, boot: OUR_BOOT, start: '1', machine: id, since: BEFORE, nonce: 'ns', lease: 5_000 }, 3_600_000)
    t.match(await messageOf(mod.lockFolder(dir)), /^GOVEX_ERR_CONFLICT: .*another pid namespace.*delete/, `${id}: not judged by its lease`)
    // and none is recorded
    await rm(lock)
    const held = await mod.lockFolder(dir)
    t.notOk('machine' in await lockOf(dir), `${id}: not recorded`)
    await held.release()
  }
})

t.test('the lease needs this machine and this boot', async t => {
  const mod = await at(t, {})
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  const restarted = { pid: 1, host: HOST, pidns: OTHER_NS, boot: OUR_BOOT, start: '1', since: AFTER, lease: 5_000 }
  await writeLock(lock, { ...restarted, machine: hashOf(BAKED), nonce: 'fresh' }, 1_000)
  t.match(await messageOf(mod.lockFolder(dir)), /^GOVEX_ERR_CONFLICT: .*renewed its lock 1(\.\d)? s ago/, 'this machine and boot, renewed: refused')
  await writeLock(lock, { ...restarted, machine: hashOf(BAKED), nonce: 'stale' }, 31_000)
  t.equal(await messageOf(mod.lockFolder(dir)), 'taken over', 'not renewed for 31 s: taken over')
  // the raw id an older lock recorded is hashed to compare: still this machine
  await writeLock(lock, { ...restarted, machine: BAKED, nonce: 'raw' }, 1_000)
  t.match(await messageOf(mod.lockFolder(dir)), /renewed its lock 1(\.\d)? s ago/)
  await writeLock(lock, { ...restarted, machine: BAKED, nonce: 'rawstale' }, 31_000)
  t.equal(await messageOf(mod.lockFolder(dir)), 'taken over')
  // no boot recorded: not known to share our clock
  const { boot, ...noBoot } = restarted
  t.equal(boot, OUR_BOOT)
  await writeLock(lock, { ...noBoot, machine: hashOf(BAKED), nonce: 'noboot' }, 3_600_000)
  t.match(await messageOf(mod.lockFolder(dir)), /^GOVEX_ERR_CONFLICT: .*another pid namespace.*delete/)
})

t.test('the lock records a hash of the machine id, never the id, and is readable by its owner only', async t => {
  const modes = new Map<string, number>()
  const mod = await at(t, {}, {
    'node:fs/promises': {
      ...fs,
      async link (from: string, to: string) {
        modes.set(basename(to).replace(/\.[\w-]+\.takeover$/, '.*.takeover'), (await stat(from)).mode & 0o777)
        await fs.link(from, to)
      }
    }
  })
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  // a dead holder, so that a takeover makes a claim
  await writeLock(lock, { pid: await deadPid(), host: HOST, pidns: NS, boot: OUR_BOOT, start: '1', machine: BAKED, since: AFTER, nonce: 'dead' })
  const held = await mod.lockFolder(dir)
  const text = await readFile(lock, 'utf8')
  t.notMatch(text, BAKED, 'the raw id is not in the lock')
  t.match(JSON.parse(text), { host: HOST, boot: OUR_BOOT, pidns: NS, machine: hashOf(BAKED), lease: 5_000 })
  t.equal((await stat(lock)).mode & 0o777, 0o600, 'the lock is 0600')
  t.same(Object.fromEntries(modes), { 'govex.lock': 0o600, 'govex.lock.*.takeover': 0o600 }, 'lock and claim made 0600')
  await held.release()

  // another machine's id is not printed, raw or hashed
  const other = 'f'.repeat(32)
  await writeLock(lock, { pid: 1, host: HOST, pidns: NS, boot: OUR_BOOT, machine: other, since: AFTER, nonce: 'other' })
  const refused = await messageOf(mod.lockFolder(dir))
  t.match(refused, 'it is on another machine with this host name (another /etc/machine-id recorded)')
  t.notMatch(refused, other)
  t.notMatch(refused, hashOf(other))
  t.same(await mod.folderLockHolder(dir), { pid: 1, host: HOST, since: AFTER, unknown: 'it is on another machine with this host name (another /etc/machine-id recorded)' })
  await writeLock(lock, { pid: 1, host: HOST, pidns: NS, boot: OUR_BOOT, since: AFTER, nonce: 'none' })
  t.match(await messageOf(mod.lockFolder(dir)), 'another machine with this host name (no /etc/machine-id recorded)')
})

t.test('a lock of a version before pid namespaces and machine ids were recorded is probed on our boot and host name', async t => {
  const mod = await at(t, {})
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  const legacy = { pid: await deadPid(), host: HOST, since: BEFORE, start: '1', boot: OUR_BOOT }
  await writeLock(lock, { ...legacy, nonce: 'crashed' })
  t.equal(await mod.folderLockHolder(dir), undefined, 'a SIGKILLed gateway of that version: none')
  const held = await mod.lockFolder(dir)
  t.match(await lockOf(dir), { pid: process.pid, machine: hashOf(BAKED), pidns: NS }, 'taken over')
  await held.release()
  // its pid runs (our parent, no start time recorded): live, and known to be
  await writeLock(lock, { pid: process.ppid, host: HOST, since: BEFORE, boot: OUR_BOOT, nonce: 'live' })
  const live = await messageOf(mod.lockFolder(dir))
  t.match(live, `in use by process ${process.ppid} on ${HOST}`)
  t.notMatch(live, 'cannot tell')
  // another boot, no boot recorded, another host: not probed
  await writeLock(lock, { ...legacy, boot: OTHER_BOOT, nonce: 'otherboot' })
  t.match(await messageOf(mod.lockFolder(dir)), /^GOVEX_ERR_CONFLICT: .*cannot tell.*delete/)
  const { boot, ...noBoot } = legacy
  t.equal(boot, OUR_BOOT)
  await writeLock(lock, { ...noBoot, nonce: 'noboot' })
  t.match(await messageOf(mod.lockFolder(dir)), /^GOVEX_ERR_CONFLICT: .*cannot tell.*delete/)
  await writeLock(lock, { ...legacy, host: 'other-host.example', nonce: 'far' })
  t.match(await messageOf(mod.lockFolder(dir)), /^GOVEX_ERR_CONFLICT: .*on another host.*delete/)
  // one that recorded a machine id but no pid namespace is not of that version: refused as before
  await writeLock(lock, { ...legacy, machine: hashOf(BAKED), nonce: 'partial' })
  t.match(await messageOf(mod.lockFolder(dir)), /another pid namespace \(not recorded\)/)
})

// This machine's own identity (no setPlaceForTests): the cases above, as
// they meet a real Linux host with /etc/machine-id
const attempt = <T>(read: () => T): T | undefined => { try { return read() } catch { return undefined } }
const REAL = {
  host: hostname(),
  pidns: attempt(() => readlinkSync('/proc/self/ns/pid')),
  machine: attempt(() => readFileSync('/etc/machine-id', 'utf8').trim()),
  boot: attempt(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim())
}
const noReal = REAL.boot === undefined || REAL.pidns === undefined ? 'needs Linux boot ids and pid namespaces' : false
t.test('on this machine: a holder under another boot id since now is refused; a crashed older version\'s lock is taken over', { skip: noReal }, async t => {
  const { lockFolder } = await t.mockImport<LockModule>('../src/store/file/folder-lock.js')
  const dir = await newDir()
  const lock = join(dir, 'govex.lock')
  const pid = await deadPid()
  if (REAL.machine !== undefined && /^[0-9a-f]{32}$/.test(REAL.machine)) {
    await writeLock(lock, { ...REAL, pid, start: '1', boot: OTHER_BOOT, since: new Date().toISOString(), nonce: 'hostA' })
    const refused = await messageOf(lockFolder(dir))
    t.match(refused, /^GOVEX_ERR_CONFLICT: .*took the folder after this machine booted/, 'not taken over')
    t.notMatch(refused, REAL.machine, 'the machine id is not printed')
  }
  await writeLock(lock, { pid, host: REAL.host, since: new Date().toISOString(), start: '1', boot: REAL.boot, nonce: 'legacy' })
  t.equal(await messageOf(lockFolder(dir)), 'taken over', 'the lock of a SIGKILLed gateway before the upgrade')
  await rm(lock, { force: true })
  const held = await lockFolder(dir)
  if (REAL.machine !== undefined && REAL.machine !== '') t.notMatch(await readFile(lock, 'utf8'), REAL.machine, 'the lock does not record the machine id')
  t.equal((await stat(lock)).mode & 0o777, 0o600, 'the lock is 0600')
  await held.release()
})
