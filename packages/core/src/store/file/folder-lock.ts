// The embedded store is for one gateway process (ARCHITECTURE.md "Storage"):
// its replay guard, quotas and plan state live in that process's memory, and
// two writers of one folder would both append the same seq to a chain. A
// writer therefore owns the folder through `<dir>/govex.lock`, made only if
// absent (mode 0600) and naming its holder (pid, host, start time, boot id,
// pid namespace, a hash of the machine id); readers never take it.
//
// The machine id is recorded as HMAC-SHA256(key: /etc/machine-id, "govex.lock")
// (machine-id(5): the id is confidential; use an app-specific hash of it), and
// only where it looks real (32 lowercase hex digits, not all zeros): images
// often hold "uninitialized" or one id baked in for every host, and cloned VMs
// share one, so an equal id alone never proves one machine. A raw id that a
// lock of an older version recorded is hashed when read.
//
// Node has no flock, so a lock left by a process that died (SIGKILL, power
// loss) is told by a liveness probe, and only where a pid means the same
// process to the holder and to us: the same host name, machine id and pid
// namespace, and (where both recorded one) the same kernel boot. There the
// holder whose pid is gone (or is now another process: its start time in
// /proc differs) no longer holds it. A lock of a version before the pid
// namespace and machine id were recorded (neither is) is probed so where it
// recorded our boot id and host name, as that version did.
//
// A holder that recorded another boot id is gone only if this machine
// rebooted since it took the folder: the same host name and (real) machine
// id, and both its `since` and, where it keeps a lease, its last renewal
// before this kernel booted (/proc/stat btime, less BOOT_SLACK_MS). Another
// boot id after our boot is another machine (hosts with one baked machine id
// and host name share the host's pid namespace under docker --pid=host), and
// one without a machine id to compare proves nothing: refused.
//
// A holder on this machine (the same host name, real machine id and boot id)
// in another pid namespace, or one that recorded none, cannot be probed, but
// it shares our kernel's clock: it is told by a lease. While held, a lock's mtime is
// renewed every LEASE_RENEW_MS (the lock records that it is); such a holder
// whose lock was not renewed for LEASE_EXPIRY_MS is gone (a container
// restarted in a new pid namespace takes over its own old lock), and one
// renewed since is live. Any other holder cannot be probed and is never taken
// over: another host (a shared folder; its clock may differ from ours),
// another machine or boot with this host name, or a holder that keeps no lease (a
// govex version before it, whose lock is never renewed). The operator deletes
// such a lock by hand once that gateway is gone.
//
// Removing a dead holder's file is one-winner, so a takeover never removes a
// live one: only the maker of the claim `govex.lock.<nonce>.takeover`, named
// after that file's nonce and made only if absent, removes it, and only if it
// still names that nonce and its holder is still judged gone (no one else can
// replace it meanwhile). It then races for a fresh lock like any starter. A
// claim whose maker died too is itself a dead holder's file, removed the same
// way under a claim named after it (claims are judged as locks are, the lease
// by their mtime: they are never renewed, and live only for a takeover's few
// file operations). Temp files (govex.lock.*.tmp) that dead starters left are
// removed once the lock is held.
import { link, open, readdir, readFile, unlink, utimes } from 'node:fs/promises'
import { createHmac, randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { readFileSync, readlinkSync } from 'node:fs'
import { GovexError } from '../../codes.js'
import { writeDurableTemp } from './atomic.js'

export const LOCK_FILE = 'govex.lock'

/** A held lock's mtime is renewed this often: its lease (see the top comment). */
export const LEASE_RENEW_MS = 5_000
/**
 * A holder told by its lease is gone once its lock was not renewed for this
 * long: six renewals missed, so a busy or briefly stalled gateway keeps it.
 */
export const LEASE_EXPIRY_MS = 30_000

/**
 * A holder under another boot id took the folder before this machine booted
 * only if it did so at least this long before the boot time /proc/stat gives
 * (whole seconds, and moved by clock steps since): else it is refused.
 */
const BOOT_SLACK_MS = 2_000

let lease = { renewMs: LEASE_RENEW_MS, expiryMs: LEASE_EXPIRY_MS }

/**
 * Tests only: shortens this process's lease, so that a test of it need not
 * wait 30 s (a fixture calls it before it takes a lock). The package does not
 * export it (index.ts) and no setting or variable reaches it: a deployment
 * always runs with LEASE_RENEW_MS and LEASE_EXPIRY_MS.
 */
export function setLeaseForTests (renewMs: number, expiryMs: number): void {
  lease = { renewMs, expiryMs }
}

/** What setPlaceForTests may set: the raw machine id (hashed as a real one is), boot time in s. */
export interface PlaceForTests {
  host?: string
  boot?: string | undefined
  pidns?: string | undefined
  machineId?: string | undefined
  bootTime?: number | undefined
}

/**
 * Tests only: where this process says it runs (host name, boot id and time,
 * pid namespace, /etc/machine-id), so that every branch of the judgement runs
 * on any test machine; undefined puts back what this machine says. Like
 * setLeaseForTests, not exported by the package and reached by no setting.
 */
export function setPlaceForTests (place: PlaceForTests | undefined): void {
  mine = undefined
  placeForTests = place
}

let placeForTests: PlaceForTests | undefined

interface Holder {
  pid: number
  host: string
  /** when it took the folder, ISO 8601 */
  since: string
  /** this file's own id: names the claim that may remove it */
  nonce: string
  /** Linux: the process's start time in clock ticks since boot, and the boot's id */
  start?: string | undefined
  boot?: string | undefined
  /** Linux: the pid namespace its pid is in, "pid:[4026531836]"; a pid means nothing outside it */
  pidns?: string | undefined
  /**
   * HMAC-SHA256 of a real /etc/machine-id (see machineKey): tells apart
   * machines that share a host name. Versions before it recorded the raw id.
   */
  machine?: string | undefined
  /**
   * ms between the renewals of the file's mtime: the holder keeps a lease.
   * Absent from locks of govex versions before the lease, which never renew
   * theirs: an old mtime there proves nothing, so they are never judged by it.
   */
  lease?: number | undefined
}

/** What this process is, as a lock names it, and when its kernel booted (ms since the epoch). */
type Place = Omit<Holder, 'since' | 'nonce' | 'lease'> & { bootTime?: number | undefined }

/**
 * The nonces of this process's locks and of the claims it holds: a lock or
 * claim naming our own pid is alive only if it is one of these (else it was
 * left by an earlier process that had our pid).
 */
const active = new Set<string>()

export interface FolderLock {
  readonly path: string
  /** removes the lock (once); a lock already gone or taken is left alone */
  release (): Promise<void>
}

/** The process a data folder's lock names: what an operator needs to find it. */
export interface FolderLockHolder {
  pid: number
  host: string
  /** when it took the folder, ISO 8601 */
  since: string
  /**
   * Set when this process cannot tell whether the holder still runs (it is on
   * another host, say): why. A start refuses it until the operator, having
   * checked that it is gone, deletes `<dir>/govex.lock` by hand.
   */
  unknown?: string
}

/**
 * How a start judges a holder: gone (`changed` when its file no longer names
 * it: look again), or live, with why when it cannot be probed (`unknown`) or
 * how long ago it renewed its lease (`renewedMs`).
 */
type Verdict =
  | { live: false, changed?: true }
  | { live: true, unknown?: string, renewedMs?: number }

/**
 * Takes `<dir>/govex.lock` for this process, or rejects with
 * GOVEX_ERR_CONFLICT naming the live holder and what to do.
 */
export async function lockFolder (dir: string): Promise<FolderLock> {
  const folder = resolve(dir)
  const path = join(folder, LOCK_FILE)
  const me = newHolder()
  active.add(me.nonce)
  try {
    const lock = await take(folder, path, me)
    if (lock !== undefined) return lock
  } catch (err) {
    active.delete(me.nonce)
    throw err
  }
  active.delete(me.nonce)
  throw new GovexError('GOVEX_ERR_CONFLICT', `the data folder ${folder} could not be locked (${path} kept changing); another gateway is starting on it: try again`)
}

/**
 * The live holder of `<dir>/govex.lock`, as a start would judge it (a holder
 * this process cannot probe, on another host, counts as live, and says why in
 * `unknown`); undefined when there is no lock, it names no holder, or its
 * holder is gone (the next start takes it over). Takes and changes nothing.
 * Rejects with GOVEX_ERR_BAD_REQUEST when the lock cannot be read.
 */
export async function folderLockHolder (dir: string): Promise<FolderLockHolder | undefined> {
  const path = join(resolve(dir), LOCK_FILE)
  // the lock replaced while judged (its lease read): judge the new one
  for (let turn = 0; turn < 10; turn++) {
    const holder = await readHolder(path)
    if (holder === undefined || holder === null) return undefined
    const verdict = await judge(path, holder)
    if (!verdict.live && verdict.changed === true) continue
    if (!verdict.live) return undefined
    const found: FolderLockHolder = { pid: holder.pid, host: holder.host, since: holder.since }
    if (verdict.unknown !== undefined) found.unknown = verdict.unknown
    return found
  }
  throw new GovexError('GOVEX_ERR_CONFLICT', `the data folder lock ${path} kept changing; a gateway is starting on ${resolve(dir)}: try again`)
}

async function take (folder: string, path: string, me: Holder): Promise<FolderLock | undefined> {
  // Each turn ends in the lock, a refusal, or a dead holder's lock removed (then
  // another turn); a takeover under way elsewhere is waited for a little.
  for (let turn = 0; turn < 250; turn++) {
    if (await create(folder, path, me)) {
      await sweep(folder, me)
      return ownLock(path, me.nonce)
    }
    const holder = await readHolder(path)
    if (holder === undefined) continue // released meanwhile
    if (holder === null) {
      throw new GovexError('GOVEX_ERR_CONFLICT', `the data folder ${folder} has a lock file ${path} that names no holder; if no gateway uses this folder, delete it and start again`)
    }
    const verdict = await judge(path, holder)
    if (verdict.live) throw refusal(folder, path, holder, verdict)
    if (verdict.changed === true) continue
    if (await removeDead(folder, path, holder.nonce, me, 0) === 'busy') await new Promise(resolve => setTimeout(resolve, 20))
  }
  return undefined
}

/**
 * Removes `file`, read naming the dead holder `nonce`, if it still names it,
 * under the one-winner claim `govex.lock.<nonce>.takeover`. 'busy' when a live
 * starter holds that claim (wait, then look again), 'done' when this turn
 * changed something or found it changed (look again now).
 */
async function removeDead (folder: string, file: string, nonce: string, me: Holder, depth: number): Promise<'done' | 'busy'> {
  const claim = join(folder, `${LOCK_FILE}.${nonce}.takeover`)
  // the claim's own nonce names the claim that may remove it if we die
  const mine = { ...me, nonce: newNonce() }
  active.add(mine.nonce)
  try {
    if (await create(folder, claim, mine)) {
      try {
        // Only this claim's maker removes a file naming `nonce`, and a name is
        // made only if absent: if the file names it now, it does until the
        // unlink. Judged again here: a lease may have been renewed meanwhile.
        const again = await readHolder(file)
        if (again !== undefined && again !== null && again.nonce === nonce && await gone(file, again)) await unlink(file).catch(ignoreMissing)
      } finally {
        await unlink(claim).catch(ignoreMissing)
      }
      return 'done'
    }
  } finally {
    active.delete(mine.nonce)
  }
  const claimant = await readHolder(claim)
  if (claimant === undefined) return 'done' // finished meanwhile
  if (claimant === null) {
    throw new GovexError('GOVEX_ERR_CONFLICT', `the data folder ${folder} has a takeover claim ${claim} that names no holder; if no gateway is starting on this folder, delete it and start again`)
  }
  const verdict = await judge(claim, claimant)
  if (verdict.live) return 'busy'
  if (verdict.changed === true) return 'done'
  // its maker died inside the takeover: its claim is a dead holder's file.
  // (A chain this long was written by hand, or loops: wait, and give up in time.)
  if (depth >= 8) return 'busy'
  return await removeDead(folder, claim, claimant.nonce, me, depth + 1)
}

/**
 * Once the lock is held: removes the temp files of starters that died inside
 * create(), and claims whose maker died (one-winner, as in a takeover). A
 * live starter whose temp file goes finds the lock taken, as it would anyway.
 */
async function sweep (folder: string, me: Holder): Promise<void> {
  let names: string[]
  try {
    names = await readdir(folder)
  } catch {
    return // the lock is held; tidying is not worth failing the start
  }
  for (const name of names) {
    if (!name.startsWith(`${LOCK_FILE}.`)) continue
    const path = join(folder, name)
    try {
      if (name.endsWith('.tmp')) {
        await unlink(path).catch(ignoreMissing)
      } else if (name.endsWith('.takeover')) {
        const claimant = await readHolder(path)
        if (claimant !== undefined && claimant !== null && await gone(path, claimant)) await removeDead(folder, path, claimant.nonce, me, 0)
      }
    } catch {
      // as above: leave it for the next start
    }
  }
}

function ownLock (path: string, nonce: string): FolderLock {
  let released = false
  let renewing = false
  // the lease: renewed until released, or until the file names another holder
  // (deleted and taken by hand, or taken over after this process stalled)
  const renew = async (): Promise<void> => {
    try {
      const holder = await readHolder(path)
      if (holder === undefined || holder === null || holder.nonce !== nonce) {
        clearInterval(timer)
        return
      }
      const now = new Date()
      await utimes(path, now, now)
    } catch {
      // the next turn tries again; a lease not renewed for LEASE_EXPIRY_MS is given up
    }
  }
  const timer = setInterval(() => {
    if (renewing || released) return
    renewing = true
    void renew().finally(() => { renewing = false })
  }, lease.renewMs)
  timer.unref()
  return {
    path,
    async release () {
      if (released) return
      released = true
      clearInterval(timer)
      active.delete(nonce)
      // never remove a lock that is not ours any more (deleted and taken by hand)
      const holder = await readHolder(path).catch(() => null)
      if (holder !== undefined && holder !== null && holder.nonce === nonce) await unlink(path).catch(ignoreMissing)
    }
  }
}

/** link() errors of a file system without hard links (SMB without unix extensions, some FUSE mounts, FAT). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS'])

/**
 * Makes `path` naming `holder` unless it exists; true when made. The text is
 * written whole and synced in a file of its own, then hard-linked to `path`
 * (a link, like O_EXCL, fails when the name exists), so a lock file is never
 * seen half written, even after a power loss.
 */
async function create (folder: string, path: string, holder: Holder): Promise<boolean> {
  let temp: string
  try {
    temp = await writeDurableTemp(folder, basename(path), JSON.stringify(holder) + '\n', 0o600)
  } catch (err) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `the data folder lock ${path} cannot be made (${(err as Error).message}); set store.dir to a folder this process can write`, { cause: err })
  }
  try {
    await link(temp, path)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? ''
    if (code === 'EEXIST') return false
    // our temp file went: a starter that took the lock meanwhile swept it
    if (code === 'ENOENT') return false
    if (NO_HARD_LINKS.has(code)) {
      throw new GovexError('GOVEX_ERR_BAD_REQUEST',
        `the data folder ${folder} is on a file system that does not support hard links (link: ${code}), which its lock ${path} needs so that only one gateway takes it; ` +
        'put store.dir on a local file system (ext4, XFS, APFS, NTFS) or use the Redis store', { cause: err })
    }
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `the data folder lock ${path} cannot be made (${(err as Error).message}); set store.dir to a folder this process can write`, { cause: err })
  } finally {
    await unlink(temp).catch(() => {})
  }
}

/**
 * The holder a lock file names; undefined when the file is gone (or its folder
 * is a file), null when it names none.
 */
async function readHolder (path: string): Promise<Holder | null | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (isMissing(err)) return undefined
    throw unreadable(path, err)
  }
  return parseHolder(text)
}

function parseHolder (text: string): Holder | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  const h = value as Partial<Holder> | null
  if (typeof h !== 'object' || h === null || typeof h.pid !== 'number' || typeof h.host !== 'string' || typeof h.since !== 'string' || typeof h.nonce !== 'string') return null
  if (!/^[\w-]{1,64}$/.test(h.nonce)) return null // it names the takeover claim file
  return h as Holder
}

/**
 * How long ago the lock file at `path` was renewed (its mtime), read from the
 * file that names `nonce`; undefined when the file there names another holder
 * or none, or is gone (that holder's file will not come back: nonces are
 * never reused).
 */
async function leaseAge (path: string, nonce: string): Promise<number | undefined> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (err) {
    if (isMissing(err)) return undefined
    throw unreadable(path, err)
  }
  try {
    // one open file: its mtime is that of the text read, whatever replaces the name meanwhile
    const { mtimeMs } = await handle.stat()
    const holder = parseHolder(await handle.readFile('utf8'))
    return holder?.nonce === nonce ? Date.now() - mtimeMs : undefined
  } catch (err) {
    throw unreadable(path, err)
  } finally {
    await handle.close().catch(() => {})
  }
}

function unreadable (path: string, err: unknown): GovexError {
  return new GovexError('GOVEX_ERR_BAD_REQUEST',
    `the data folder lock ${path} cannot be read (${(err as Error).message}); give this process read access to it and its folder, or set store.dir to a folder this process can read and write`, { cause: err })
}

/**
 * Why this process cannot probe the holder's pid, or undefined when it can: a
 * pid names a process only on its host, and there only in its pid namespace.
 * Fields the holder did not record count as different, so a lock that does
 * not say where it was made is not taken over on a guess; but a lock of a
 * version before pid namespaces and machine ids were recorded (neither is)
 * that recorded our boot id and host name is probed, as that version did.
 */
function unprobeable (holder: Holder): string | undefined {
  const me = here()
  if (holder.host !== me.host) return 'it is on another host'
  if (holder.pidns === undefined && holder.machine === undefined && holder.boot !== undefined && holder.boot === me.boot) return undefined
  const machine = machineKey(holder.machine)
  if (machine !== me.machine) return `it is on another machine with this host name (${machine === undefined ? 'no' : 'another'} /etc/machine-id recorded)`
  if (holder.boot !== undefined && me.boot !== undefined && holder.boot !== me.boot && !rebooted(holder)) {
    return me.machine === undefined
      ? 'it runs under another kernel boot with this host name and no machine id to tell a reboot from another host'
      : 'it runs under another kernel boot with this host name and machine id, and took the folder after this machine booted: another machine with a copied machine id (a cloned VM, or one id baked into an image)'
  }
  if (holder.pidns !== me.pidns) return `it is in another pid namespace (${holder.pidns ?? 'not recorded'}), as in another container with this host name`
  return undefined
}

/**
 * The holder is on this machine and kernel (the same host name, real machine
 * id and boot id, all recorded) but its pid cannot be probed (another pid
 * namespace, or none recorded): it shares our clock, so its lease tells
 * whether it lives, if it keeps one that renews more often than a lease
 * expires here. Another machine's clock may differ: never judged by a lease.
 */
function leased (holder: Holder): boolean {
  const me = here()
  return holder.host === me.host && me.machine !== undefined && machineKey(holder.machine) === me.machine &&
    holder.boot !== undefined && holder.boot === me.boot && holder.pidns !== me.pidns &&
    keepsLease(holder) && holder.lease < lease.expiryMs
}

/**
 * This machine rebooted since the holder took the lock (so the holder is
 * gone), as far as the lock itself tells: another boot id, the same host name
 * and real machine id, and a `since` before this kernel booted. Without a
 * real machine id, hosts share host names and the host's pid namespace, and
 * their boot ids always differ; and one machine id is often on many machines
 * (baked into an image, a cloned VM): a holder that took the folder after we
 * booted is on one of those. judge() checks a leased holder's last renewal too.
 */
function rebooted (holder: Holder): boolean {
  const me = here()
  return holder.boot !== undefined && me.boot !== undefined && holder.boot !== me.boot &&
    holder.host === me.host && me.machine !== undefined && machineKey(holder.machine) === me.machine &&
    beforeBoot(Date.parse(holder.since))
}

/** `ms` (since the epoch) is before this kernel booted, by BOOT_SLACK_MS at least. */
function beforeBoot (ms: number): boolean {
  const booted = here().bootTime
  return booted !== undefined && Number.isFinite(ms) && ms < booted - BOOT_SLACK_MS
}

const GONE: Verdict = { live: false }

/** Judged gone, and the file still names it. */
async function gone (path: string, holder: Holder): Promise<boolean> {
  const verdict = await judge(path, holder)
  return !verdict.live && verdict.changed !== true
}

/** Whether the holder `path` names still holds it (see the top comment). */
async function judge (path: string, holder: Holder): Promise<Verdict> {
  if (rebooted(holder)) {
    if (!keepsLease(holder)) return GONE
    // a holder that renewed its lease after we booted ran meanwhile: another machine
    const age = await leaseAge(path, holder.nonce)
    if (age === undefined) return { live: false, changed: true }
    if (beforeBoot(Date.now() - age)) return GONE
    return { live: true, unknown: 'it runs under another kernel boot with this host name and machine id, and renewed its lock after this machine booted: another machine with a copied machine id (a cloned VM, or one id baked into an image)' }
  }
  if (leased(holder)) {
    const age = await leaseAge(path, holder.nonce)
    if (age === undefined) return { live: false, changed: true }
    return age > lease.expiryMs ? GONE : { live: true, renewedMs: Math.max(0, age) }
  }
  const unknown = unprobeable(holder)
  if (unknown !== undefined) return { live: true, unknown }
  return probe(holder) ? { live: true } : GONE
}

/** The holder says it renews its lock's mtime. */
function keepsLease (holder: Holder): holder is Holder & { lease: number } {
  return typeof holder.lease === 'number' && holder.lease > 0
}

/** A holder of this host and pid namespace: whether its process runs. */
function probe (holder: Holder): boolean {
  if (holder.pid <= 0) return false
  if (holder.pid === process.pid) return active.has(holder.nonce) // else an earlier process that had our pid
  try {
    process.kill(holder.pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false // ESRCH: no such process
  }
  // the pid lives: is it still the holder, or a process that got its pid since?
  const start = startTicks(holder.pid)
  return holder.start === undefined || start === undefined || start === holder.start
}

function refusal (folder: string, path: string, holder: Holder, verdict: Verdict & { live: true }): GovexError {
  const probed = verdict.unknown === undefined && verdict.renewedMs === undefined
  const who = probed && holder.pid === process.pid ? 'this process' : `process ${holder.pid} on ${holder.host}`
  let why = ''
  if (verdict.unknown !== undefined) {
    why = `. This process cannot tell whether that gateway still runs (${verdict.unknown}): if it is gone, delete ${path} and start again`
  } else if (verdict.renewedMs !== undefined) {
    why = `. It is on this machine in another pid namespace (another container with this host name, or this one before it restarted) and renewed its lock ${seconds(verdict.renewedMs)} ago: ` +
      `a gateway that is gone stops renewing it, and a start ${seconds(lease.expiryMs)} after the last renewal takes it over`
  }
  return new GovexError('GOVEX_ERR_CONFLICT',
    `the data folder ${folder} is in use by ${who} since ${holder.since} (${path}); one gateway process owns a file store: ` +
    'stop the other gateway, give this one its own store.dir, or use the Redis store to run several gateways' + why)
}

function seconds (ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

let mine: Place | undefined

function here (): Place {
  if (mine !== undefined) return mine
  const test = placeForTests
  mine = {
    pid: process.pid,
    host: test?.host ?? hostname(),
    start: startTicks(process.pid),
    boot: test !== undefined && 'boot' in test ? test.boot : bootId(),
    pidns: test !== undefined && 'pidns' in test ? test.pidns : pidNamespace(),
    machine: machineKey(test !== undefined && 'machineId' in test ? test.machineId : readText('/etc/machine-id')),
    bootTime: test !== undefined && 'bootTime' in test ? (test.bootTime === undefined ? undefined : test.bootTime * 1000) : bootTime()
  }
  return mine
}

function newHolder (): Holder {
  const { bootTime, ...place } = here()
  return { ...place, since: new Date().toISOString(), nonce: newNonce(), lease: lease.renewMs }
}

/**
 * What a lock records of a machine id, and how one recorded is compared: the
 * app-specific HMAC-SHA256 of a real id (32 lowercase hex digits, not all
 * zeros; "uninitialized" and empty ids are none), as hex. A hash (64 hex
 * digits) is kept; a raw id, as versions before the hash recorded, is hashed.
 */
function machineKey (id: string | undefined): string | undefined {
  if (id === undefined) return undefined
  if (/^[0-9a-f]{64}$/.test(id)) return id
  if (!/^[0-9a-f]{32}$/.test(id) || /^0+$/.test(id)) return undefined
  return createHmac('sha256', id).update('govex.lock').digest('hex')
}

function newNonce (): string {
  return randomBytes(9).toString('base64url')
}

/** Linux: field 22 of /proc/<pid>/stat, the process's start time since boot. */
function startTicks (pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) may hold spaces and parentheses: count from its end
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

function bootId (): string | undefined {
  return readText('/proc/sys/kernel/random/boot_id')
}

/** Linux: when this kernel booted, ms since the epoch (the btime line of /proc/stat). */
function bootTime (): number | undefined {
  const line = /^btime (\d+)$/m.exec(readText('/proc/stat') ?? '')
  return line?.[1] === undefined ? undefined : Number(line[1]) * 1000
}

/** Linux: "pid:[<inode>]", unique among the pid namespaces that exist. */
function pidNamespace (): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid')
  } catch {
    return undefined
  }
}

/** A file's trimmed text; undefined when it is missing or empty. */
function readText (path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim()
    return text === '' ? undefined : text
  } catch {
    return undefined
  }
}

function ignoreMissing (err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
}

/** No file there: gone, or a part of the path is a file (no folder there). */
function isMissing (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ENOTDIR'
}
