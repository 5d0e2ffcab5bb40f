// Opening the audit log a config names, without a gateway: the file log or the
// Redis streams, read with the same AuditLog interface the gateway writes with.
import { openFileStores, verifyChain } from '@govex/core'
import type { AuditLog, AuditRecord, AuditVerifyResult } from '@govex/core'
import type { ResolvedConfig } from './config.js'

export interface AuditSource {
  audit: AuditLog
  close (): Promise<void>
}

export async function openAuditSource (config: ResolvedConfig): Promise<AuditSource> {
  const store = config.store
  if (store.kind === 'file') {
    const stores = await openFileStores({ dir: store.dir, gatewayId: config.gatewayId })
    return { audit: stores.audit, close: async () => { await stores.close() } }
  }
  // loaded only for Redis deployments
  const { openRedisStores } = await import('@govex/redis')
  const stores = await openRedisStores({ url: store.url, prefix: store.prefix, gatewayId: config.gatewayId })
  return { audit: stores.audit, close: async () => { await stores.close() } }
}

/** Verifies records from anywhere (an exported file), per gateway chain. */
export async function verifyRecords (records: AsyncIterable<AuditRecord>): Promise<AuditVerifyResult> {
  return await verifyChain(records)
}
