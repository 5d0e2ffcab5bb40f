// The embedded store is for one gateway process (ARCHITECTURE.md "Storage"):
// its replay guard, quotas and plan state live in that process's memory, and
// two writers of one folder would both append the same seq to a chain. A
// writer therefore owns the folder through `<dir>/govex.lock`, made only if
// absent and naming its holder (pid, host, start time, pid namespace, machine
// id); readers never take it.
//
// Node has no flock, so a lock left by a process that died (SIGKILL, power
// loss) is told by a liveness probe, and only where a pid means the same
// process to the holder and to us: the same host name, machine id and pid
// namespace, and (where both recorded one) the same kernel boot. There the
// holder whose pid is gone (or is now another process: its start time in
// /proc differs) no longer holds it; nor does one recorded before this host
// rebooted — told by another boot id only where both recorded the same
// machine id, since hosts without /etc/machine-id may share a host name and
// the host's pid namespace, and their boot ids always differ. A holder anywhere else cannot be probed and is never taken over: another
// host (a shared folder), or another container with this host name (its pid
// names a process in its own namespace; pid 1 in both, say). The operator
// deletes such a lock by hand once that gateway is gone.
//
// Removing a dead holder's file is one-winner, so a takeover never removes a
// live one: only the maker of the claim `govex.lock.<nonce>.takeover`, named
// after that file's nonce and made only if absent, removes it, and only if it
// still names that nonce (no one else can replace it meanwhile). It then races
// for a fresh lock like any starter. A claim whose maker died too is itself a
// dead holder's file, removed the same way under a claim named after it.
// Temp files (govex.lock.*.tmp) that dead starters left are removed once the
// lock is held.
import { link, readdir, readFile, unlink } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { readFileSync, readlinkSync } from 'node:fs'
import { GovexError } from '../../codes.js'
import { writeDurableTemp } from './atomic.js'

export const LOCK_FILE = 'govex.lock'

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
  /** /etc/machine-id: tells apart machines that share a host name */
  machine?: string | undefined
}

/** What this process is, as a lock names it. */
type Place = Omit<Holder, 'since' | 'nonce'>

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
}

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
 * this process cannot probe, on another host or in another pid namespace,
 * counts as live); undefined when there is no lock, it names no holder, or its
 * holder is dead (the next start takes it over). Takes and changes nothing.
 */
export async function folderLockHolder (dir: string): Promise<FolderLockHolder | undefined> {
  let holder: Holder | null | undefined
  try {
    holder = await readHolder(join(resolve(dir), LOCK_FILE))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined // no folder there
    throw err
  }
  if (holder === undefined || holder === null || !isAlive(holder)) return undefined
  return { pid: holder.pid, host: holder.host, since: holder.since }
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
    if (isAlive(holder)) throw refusal(folder, path, holder)
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
        // made only if absent: if the file names it now, it does until the unlink.
        const again = await readHolder(file)
        if (again !== undefined && again !== null && again.nonce === nonce) await unlink(file).catch(ignoreMissing)
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
  if (isAlive(claimant)) return 'busy'
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
        if (claimant !== undefined && claimant !== null && !isAlive(claimant)) await removeDead(folder, path, claimant.nonce, me, 0)
      }
    } catch {
      // as above: leave it for the next start
    }
  }
}

function ownLock (path: string, nonce: string): FolderLock {
  let released = false
  return {
    path,
    async release () {
      if (released) return
      released = true
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
    temp = await writeDurableTemp(folder, basename(path), JSON.stringify(holder) + '\n', 0o644)
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

/** The holder a lock file names; undefined when the file is gone, null when it names none. */
async function readHolder (path: string): Promise<Holder | null | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
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
 * Why this process cannot probe the holder's pid, or undefined when it can: a
 * pid names a process only on its host, and there only in its pid namespace.
 * Fields the holder did not record count as different, so a lock that does
 * not say where it was made is not taken over on a guess.
 */
function unprobeable (holder: Holder): string | undefined {
  const me = here()
  if (holder.host !== me.host) return 'it is on another host'
  if (holder.machine !== me.machine) return `it is on another machine with this host name (/etc/machine-id ${holder.machine ?? 'not recorded'})`
  if (holder.boot !== undefined && me.boot !== undefined && holder.boot !== me.boot && !rebooted(holder)) return 'it runs under another kernel boot with this host name and no machine id to tell a reboot from another host'
  if (holder.pidns !== me.pidns) return `it is in another pid namespace (${holder.pidns ?? 'not recorded'}), as in another container with this host name`
  return undefined
}

/**
 * This host rebooted since the holder took the lock (so the holder is gone):
 * told only where both recorded the same machine id and different boot ids.
 * Machines without /etc/machine-id (most container images) share host names
 * and the host's pid namespace across hosts, and their boot ids always differ:
 * there a boot id that is not ours proves nothing.
 */
function rebooted (holder: Holder): boolean {
  const me = here()
  return holder.boot !== undefined && me.boot !== undefined && holder.boot !== me.boot &&
    holder.machine !== undefined && holder.machine === me.machine && holder.host === me.host
}

function isAlive (holder: Holder): boolean {
  if (rebooted(holder)) return false
  if (unprobeable(holder) !== undefined) return true
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

function refusal (folder: string, path: string, holder: Holder): GovexError {
  const unknown = unprobeable(holder)
  const who = unknown === undefined && holder.pid === process.pid ? 'this process' : `process ${holder.pid} on ${holder.host}`
  return new GovexError('GOVEX_ERR_CONFLICT',
    `the data folder ${folder} is in use by ${who} since ${holder.since} (${path}); one gateway process owns a file store: ` +
    'stop the other gateway, give this one its own store.dir, or use the Redis store to run several gateways' +
    (unknown === undefined ? '' : `. This process cannot tell whether that gateway still runs (${unknown}): if it is gone, delete ${path} and start again`))
}

let mine: Place | undefined

function here (): Place {
  mine ??= { pid: process.pid, host: hostname(), start: startTicks(process.pid), boot: bootId(), pidns: pidNamespace(), machine: machineId() }
  return mine
}

function newHolder (): Holder {
  return { ...here(), since: new Date().toISOString(), nonce: newNonce() }
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

function machineId (): string | undefined {
  return readText('/etc/machine-id')
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
