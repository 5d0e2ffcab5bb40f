// The shared audit log contract of @govex/core, run unchanged against Redis.
// The contract opens and closes a bare AuditLog; here each one owns its stores
// (a fresh key prefix), closed with it.
import t from 'tap'
import { auditLogContract } from '@govex/core/contract'
import type { AuditEntry, AuditFilter, AuditLog, AuditPage, AuditRecord, AuditVerifyOptions, AuditVerifyResult, ChainHead } from '@govex/core'
import { openRedisStores, type RedisStores } from '../src/index.js'
import { deletePrefix, needRedis, randomPrefix, REDIS_URL } from './helpers/redis.js'

/** An AuditLog whose close() also closes the Redis connections behind it. */
class OwnedAuditLog implements AuditLog {
  constructor (readonly stores: RedisStores, readonly prefix: string) {}
  get gatewayId (): string { return this.stores.audit.gatewayId }
  async append (entry: AuditEntry): Promise<AuditRecord> { return await this.stores.audit.append(entry) }
  head (): ChainHead { return this.stores.audit.head() }
  async query (filter: AuditFilter, limit: number, cursor?: string): Promise<AuditPage> { return await this.stores.audit.query(filter, limit, cursor) }
  scan (filter: AuditFilter): AsyncIterable<AuditRecord> { return this.stores.audit.scan(filter) }
  async verify (options?: AuditVerifyOptions): Promise<AuditVerifyResult> { return await this.stores.audit.verify(options) }
  async flush (): Promise<void> { await this.stores.audit.flush() }
  async close (): Promise<void> { await this.stores.close() }
}

if (await needRedis(t)) {
  const prefixes: string[] = []
  t.teardown(async () => { for (const prefix of prefixes) await deletePrefix(REDIS_URL, prefix) })
  const openAt = async (prefix: string): Promise<OwnedAuditLog> =>
    new OwnedAuditLog(await openRedisStores({ url: REDIS_URL, prefix, gatewayId: 'tj.gw.contract' }), prefix)
  await auditLogContract(t, 'redis', async () => {
    const prefix = randomPrefix()
    prefixes.push(prefix)
    return await openAt(prefix)
  }, async log => {
    const owned = log as OwnedAuditLog
    await owned.close()
    return await openAt(owned.prefix)
  })
}
