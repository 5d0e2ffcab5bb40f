// Documents kept in one Redis hash (field = id, value = the document's JSON),
// the store of members, directories and disclosure catalogs (documents.ts) and
// what an auditor's reader lists the members with (audit-reader.ts). Each
// write and its change notification go in one MULTI, so no gateway misses a
// change it could read. Not exported by the package.
import type { Redis } from 'ioredis'
import type { StoreChange } from '@govex/core'
import { guarded, type RedisUser } from './connection.js'

export class HashDocuments<T> {
  constructor (
    private readonly client: Redis,
    private readonly key: string,
    private readonly channel: string,
    private readonly kind: 'member' | 'directory' | 'disclosure',
    /** whose rights a refusal's advice speaks of */
    private readonly user: RedisUser = 'gateway'
  ) {}

  async get (id: string): Promise<T | undefined> {
    const json = await guarded(`reading ${this.kind} ${id} from Redis`, () => this.client.hget(this.key, id), this.user)
    return json === null ? undefined : JSON.parse(json) as T
  }

  async list (): Promise<T[]> {
    const all = await guarded(`listing ${this.kind} documents in Redis`, () => this.client.hgetall(this.key), this.user)
    return Object.keys(all).sort().map(id => JSON.parse(all[id] as string) as T)
  }

  async put (id: string, document: T): Promise<void> {
    const change: StoreChange = { kind: this.kind, id }
    await guarded(`writing ${this.kind} ${id} to Redis`, async () => {
      const results = await this.client.multi()
        .hset(this.key, id, JSON.stringify(document))
        .publish(this.channel, JSON.stringify(change))
        .exec()
      for (const [err] of results ?? []) if (err !== null) throw err
    })
  }
}
