// Opening the audit log a config names, without a gateway: the file log or the
// Redis streams, read with the same AuditLog interface the gateway writes with.
//
// The log is opened under a reader id of its own, never the gateway's: opening
// a file chain as its owner cuts a torn last line, and opening a Redis chain as
// its owner replays its spool — both writes, which must stay the running
// gateway's alone. The reader appends nothing; the empty file the file log
// makes for it is removed on close, on SIGINT/SIGTERM (a Ctrl-C during a long
// export), and, when a reader was killed outright, by the next reader: MODEL.md
// keeps only the gateways' chains in the audit folder, and a gateway takes
// every file there for one.
import { statSync, unlinkSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { FileAuditLog, FileMemberRegistry, verifyFile } from '@govex/core'
import type { AuditLog, AuditVerifyResult, CheckpointKeys, Member } from '@govex/core'
import type { ResolvedConfig } from './config.js'
import { CliError } from './errors.js'

export interface AuditSource {
  audit: AuditLog
  /** the store's members: the gateways' keys check their checkpoints */
  members (): Promise<Member[]>
  close (): Promise<void>
}

export const READER_ID_PREFIX = 'govex-cli.reader-'

export async function openAuditSource (config: ResolvedConfig): Promise<AuditSource> {
  const readerId = READER_ID_PREFIX + String(process.pid)
  const store = config.store
  if (store.kind === 'file') {
    const folder = join(store.dir, 'audit')
    try {
      await stat(folder)
    } catch {
      throw new CliError(`there is no audit log in ${store.dir}: has a gateway run with this config (store.dir)?`)
    }
    await removeStaleReaders(folder)
    const readerFile = join(folder, readerId + '.jsonl')
    const removeOnSignal = (signal: NodeJS.Signals): void => {
      removeEmpty(readerFile)
      forget()
      // then end by the signal, as without this listener
      process.kill(process.pid, signal)
    }
    const forget = (): void => {
      process.off('SIGINT', removeOnSignal)
      process.off('SIGTERM', removeOnSignal)
    }
    process.on('SIGINT', removeOnSignal)
    process.on('SIGTERM', removeOnSignal)
    let audit: AuditLog
    try {
      audit = await FileAuditLog.open({ dir: store.dir, gatewayId: readerId })
    } catch (e) {
      forget()
      removeEmpty(readerFile)
      throw e
    }
    return {
      audit,
      members: async () => await (await FileMemberRegistry.open({ dir: store.dir })).list(),
      close: async () => {
        try {
          await audit.close()
        } finally {
          forget()
          removeEmpty(readerFile)
        }
      }
    }
  }
  // loaded only for Redis deployments
  const { openRedisStores } = await import('@govex/redis')
  const stores = await openRedisStores({ url: store.url, prefix: store.prefix, gatewayId: readerId })
  return { audit: stores.audit, members: async () => await stores.members.list(), close: async () => { await stores.close() } }
}

/** Removes a reader's chain file if it holds nothing (a reader appends nothing; a file with records is a chain). */
function removeEmpty (file: string): void {
  try {
    if (statSync(file).size === 0) unlinkSync(file)
  } catch {}
}

/** Empty reader files whose process is gone (killed before it could remove its own). */
async function removeStaleReaders (folder: string): Promise<void> {
  const names = await readdir(folder).catch(() => [] as string[])
  for (const name of names) {
    if (!name.startsWith(READER_ID_PREFIX) || !name.endsWith('.jsonl')) continue
    const pid = name.slice(READER_ID_PREFIX.length, -'.jsonl'.length)
    if (!/^\d+$/.test(pid) || isRunning(Number(pid))) continue
    removeEmpty(join(folder, name))
  }
}

function isRunning (pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it runs, as another user
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Verifies an exported NDJSON file offline, every gateway chain in it. */
export async function verifyExportFile (file: string, keys: CheckpointKeys | undefined, onLines?: (n: number) => void): Promise<AuditVerifyResult> {
  try {
    return await verifyFile(file, { keys }, onLines)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') throw new CliError(`cannot read ${file} (${code}); pass the path of an NDJSON export`)
    throw e
  }
}
