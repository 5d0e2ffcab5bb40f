// The Redis the end-to-end tests use: GOVEX_TEST_REDIS_URL (default
// 127.0.0.1:6379), a random key prefix per test deleted afterwards, and a loud
// skip without Redis — a failure under CI=true.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

export const REDIS_URL = process.env.GOVEX_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

interface TapLike {
  plan (n: number, comment?: string): void
  fail (message: string): void
}

async function answers (url: string): Promise<boolean> {
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

export async function needRedis (t: TapLike): Promise<boolean> {
  if (await answers(REDIS_URL)) return true
  const reason = `no Redis answers at ${REDIS_URL}: start one (redis-server) or set GOVEX_TEST_REDIS_URL`
  if (process.env.CI === 'true') t.fail(`${reason} (CI=true: Redis tests may not be skipped)`)
  else {
    console.error(`\n!!! SKIPPING the Redis end-to-end tests: ${reason}\n`)
    t.plan(0, `SKIP ${reason}`)
  }
  return false
}

export function randomPrefix (): string {
  return `govex-e2e-${randomBytes(6).toString('hex')}:`
}

export async function deletePrefix (prefix: string): Promise<void> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await client.del(...keys)
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
}
