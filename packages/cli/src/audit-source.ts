// Opening the audit log a config names, without a gateway: the file log or the
// Redis streams, read with the same AuditLog interface the gateway writes with.
import { openFileStores } from '@govex/core'
import type { AuditLog } from '@govex/core'
import { openRedisStores } from '@govex/redis'
import type { ResolvedConfig } from './config.js'

export interface AuditSource {
  audit: AuditLog
  close (): Promise<void>
}

export async function openAuditSource (config: ResolvedConfig): Promise<AuditSource> {
  const store = config.store
  const stores = store.kind === 'file'
    ? await openFileStores({ dir: store.dir, gatewayId: config.gatewayId })
    : await openRedisStores({ url: store.url, prefix: store.prefix, gatewayId: config.gatewayId })
  return { audit: stores.audit, close: async () => { await stores.close() } }
}
