// Opening the stores a config names: the embedded file store, or Redis through
// @govex/redis, imported only when asked for so a file-store gateway never loads
// a Redis client.
import { openFileStores } from '@govex/core'
import type { Stores } from '@govex/core'
import type { ResolvedConfig } from './config.js'

interface RedisModule {
  openRedisStores (options: { url: string, prefix: string, gatewayId: string, spoolDir: string }): Promise<Stores>
}

export async function openStores (config: ResolvedConfig): Promise<Stores> {
  const store = config.store
  if (store.kind === 'file') {
    return await openFileStores({ dir: store.dir, gatewayId: config.gatewayId, maxBatch: config.audit.maxBatch })
  }
  const redis = await import('@govex/redis') as unknown as RedisModule
  return await redis.openRedisStores({ url: store.url, prefix: store.prefix, gatewayId: config.gatewayId, spoolDir: store.spoolDir })
}
