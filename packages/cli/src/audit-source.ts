// Opening the audit log a config names, without a gateway: the file log or the
// Redis streams, read with the same AuditLog interface the gateway writes with.
//
// The log is opened under a reader id of its own, never the gateway's: opening
// a file chain as its owner cuts a torn last line, and opening a Redis chain as
// its owner replays its spool — both writes, which must stay the running
// gateway's alone. The reader appends nothing; the empty file the file log
// makes for it is removed on close.
import { stat, unlink } from 'node:fs/promises'
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
    const readerFile = join(folder, readerId + '.jsonl')
    const audit = await FileAuditLog.open({ dir: store.dir, gatewayId: readerId })
    return {
      audit,
      members: async () => await (await FileMemberRegistry.open({ dir: store.dir })).list(),
      close: async () => {
        await audit.close()
        const s = await stat(readerFile).catch(() => undefined)
        if (s !== undefined && s.size === 0) await unlink(readerFile).catch(() => {})
      }
    }
  }
  // loaded only for Redis deployments
  const { openRedisStores } = await import('@govex/redis')
  const stores = await openRedisStores({ url: store.url, prefix: store.prefix, gatewayId: readerId })
  return { audit: stores.audit, members: async () => await stores.members.list(), close: async () => { await stores.close() } }
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
