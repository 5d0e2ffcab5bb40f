// Opening the stores a config names: the embedded file store, or Redis through
// @govex/redis, imported only when asked for so a file-store gateway never loads
// a Redis client.
import { openFileStores } from '@govex/core'
import type { CheckpointOptions, Stores } from '@govex/core'
import type { FastifyBaseLogger } from 'fastify'
import type { ResolvedConfig } from './config.js'

interface RedisModule {
  openRedisStores (options: {
    url: string
    prefix: string
    gatewayId: string
    spoolDir: string
    maxBatch?: number | undefined
    checkpoint?: CheckpointOptions | undefined
    waitForRedis?: boolean | undefined
    onError?: (err: Error) => void
    onWarning?: (message: string) => void
  }): Promise<Stores>
}

export interface OpenStoresOptions {
  /**
   * Redis: open even when it does not answer, calls failing with
   * GOVEX_ERR_UNAVAILABLE until it does. Only for a caller that starts with
   * Runtime.start(), which waits for the stores in the background; without it
   * the bootstrap fails at once, as a Redis that does not answer at open would.
   */
  waitForRedis?: boolean
}

/**
 * `log` hears of store failures no request awaits (a lost Redis connection, a
 * spool replay); `signCheckpoint` (the gateway key's) signs a checkpoint into
 * the audit chain every `audit.checkpointEvery` records.
 */
export async function openStores (config: ResolvedConfig, log?: FastifyBaseLogger, signCheckpoint?: CheckpointOptions['sign'], options: OpenStoresOptions = {}): Promise<Stores> {
  const store = config.store
  const every = config.audit.checkpointEvery
  const checkpoint = signCheckpoint !== undefined && every > 0 ? { every, sign: signCheckpoint } : undefined
  if (store.kind === 'file') {
    return await openFileStores({ dir: store.dir, gatewayId: config.gatewayId, maxBatch: config.audit.maxBatch, checkpoint, replayWindowS: config.limits.replayWindowS })
  }
  const redis = await import('@govex/redis') as unknown as RedisModule
  return await redis.openRedisStores({
    url: store.url,
    prefix: store.prefix,
    gatewayId: config.gatewayId,
    spoolDir: store.spoolDir,
    maxBatch: config.audit.maxBatch,
    checkpoint,
    waitForRedis: options.waitForRedis,
    onError: err => { log?.error({ err }, 'the Redis store reported a failure') },
    // a setting the operator chose (a test Redis without persistence) is not a failure
    onWarning: message => { log?.warn(message) }
  })
}
