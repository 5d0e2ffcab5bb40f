// The shared storage contract of @govex/core, run unchanged against Redis:
// every open() gets a fresh key prefix, deleted after the run.
import t from 'tap'
import { storeContract } from '@govex/core/contract'
import type { Stores } from '@govex/core'
import { openRedisStores } from '../src/index.js'
import { deletePrefix, needRedis, randomPrefix, REDIS_URL } from './helpers/redis.js'

if (await needRedis(t)) {
  const prefixes: string[] = []
  t.teardown(async () => { for (const prefix of prefixes) await deletePrefix(REDIS_URL, prefix) })
  const openAt = async (prefix: string): Promise<Stores> => await openRedisStores({ url: REDIS_URL, prefix, gatewayId: 'tj.gw.contract' })
  const open = async (): Promise<Stores> => {
    const prefix = randomPrefix()
    prefixes.push(prefix)
    return await openAt(prefix)
  }
  await storeContract(t, 'redis', open, { reopen: async () => await openAt(prefixes[prefixes.length - 1] as string) })
}
