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
import { FileAuditLog, verifyChain } from '@govex/core'
import type { AuditLog, AuditRecord, AuditVerifyResult } from '@govex/core'
import type { ResolvedConfig } from './config.js'
import { CliError } from './errors.js'

export interface AuditSource {
  audit: AuditLog
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
  return { audit: stores.audit, close: async () => { await stores.close() } }
}

/** Verifies records from anywhere (an exported file), per gateway chain. */
export async function verifyRecords (records: AsyncIterable<AuditRecord>): Promise<AuditVerifyResult> {
  return await verifyChain(records)
}
