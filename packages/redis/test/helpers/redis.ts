// Test helpers: the Redis at GOVEX_TEST_REDIS_URL, a random key prefix per
// test (deleted afterwards), and the loud skip (or CI failure) when no Redis answers.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { openRedisStores, type RedisStores, type RedisStoresOptions } from '../../src/index.js'

export const REDIS_URL = process.env.GOVEX_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export interface TapLike {
  plan (n: number, comment?: string): void
  fail (message: string): void
  teardown (fn: () => unknown): void
}

/** Whether a Redis answers at `url` within a second. */
export async function redisAnswers (url: string = REDIS_URL): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
    return true
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

/**
 * true when the tests can run. Without a Redis: a skip with a loud reason, or
 * a failure when CI=true (CI must not pass without having tested anything).
 */
export async function needRedis (t: TapLike): Promise<boolean> {
  if (await redisAnswers()) return true
  const reason = `no Redis answers at ${REDIS_URL}: start one (redis-server) or set GOVEX_TEST_REDIS_URL`
  if (process.env.CI === 'true') {
    t.fail(`${reason} (CI=true: Redis tests may not be skipped)`)
  } else {
    console.error(`\n!!! SKIPPING @govex/redis tests: ${reason}\n`)
    t.plan(0, `SKIP ${reason}`)
  }
  return false
}

export function randomPrefix (): string {
  return `govex-test-${randomBytes(6).toString('hex')}:`
}

/** Deletes every key under `prefix` (SCAN is fine in tests, never on hot paths). */
export async function deletePrefix (url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await client.del(...keys)
    } while (cursor !== '0')
  } catch {
    // the server is gone (outage tests stop their own): nothing left to clean
  } finally {
    client.disconnect()
  }
}

export interface TestScope {
  readonly prefix: string
  /** stores under the scope's prefix; closed before the prefix is deleted */
  open (options?: Partial<RedisStoresOptions>): Promise<RedisStores>
}

/**
 * A random prefix for one test: every store opened in it (on `url`) is closed,
 * then every key deleted (through `cleanUrl`, a user allowed to), at teardown.
 */
export function scope (t: TapLike, url: string = REDIS_URL, cleanUrl: string = url): TestScope {
  const prefix = randomPrefix()
  const opened: RedisStores[] = []
  t.teardown(async () => {
    await Promise.allSettled(opened.map(s => s.close()))
    await deletePrefix(cleanUrl, prefix)
  })
  return {
    prefix,
    async open (options = {}) {
      const stores = await openRedisStores({ url, gatewayId: 'tj.gw.test-1', prefix, ...options })
      opened.push(stores)
      return stores
    }
  }
}

/** A raw client for inspecting keys, closed at teardown. */
export async function rawClient (t: TapLike, url: string = REDIS_URL): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true })
  await client.connect()
  t.teardown(() => { client.disconnect() })
  return client
}
