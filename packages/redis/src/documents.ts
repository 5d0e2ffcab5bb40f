// Members, directories and disclosure catalogs: one Redis hash per kind
// (field = id, value = the document's JSON). Each write and its change
// notification go in one MULTI, so no gateway misses a change it could read.
import type { Redis } from 'ioredis'
import type { Directory, DirectoryStore, DisclosureCatalog, DisclosureStore, Member, MemberRegistry, StoreChange } from '@govex/core'
import { guarded } from './connection.js'
import type { KeyLayout } from './keys.js'

class HashDocuments<T> {
  constructor (
    private readonly client: Redis,
    private readonly key: string,
    private readonly channel: string,
    private readonly kind: 'member' | 'directory' | 'disclosure'
  ) {}

  async get (id: string): Promise<T | undefined> {
    const json = await guarded(`reading ${this.kind} ${id} from Redis`, () => this.client.hget(this.key, id))
    return json === null ? undefined : JSON.parse(json) as T
  }

  async list (): Promise<T[]> {
    const all = await guarded(`listing ${this.kind} documents in Redis`, () => this.client.hgetall(this.key))
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

export class RedisMemberRegistry implements MemberRegistry {
  readonly #docs: HashDocuments<Member>
  constructor (client: Redis, keys: KeyLayout) {
    this.#docs = new HashDocuments(client, keys.members, keys.changes, 'member')
  }

  async get (id: string): Promise<Member | undefined> { return await this.#docs.get(id) }
  async list (): Promise<Member[]> { return await this.#docs.list() }
  async put (member: Member): Promise<void> { await this.#docs.put(member.id, member) }
}

export class RedisDirectoryStore implements DirectoryStore {
  readonly #docs: HashDocuments<Directory>
  constructor (client: Redis, keys: KeyLayout) {
    this.#docs = new HashDocuments(client, keys.directories, keys.changes, 'directory')
  }

  async get (agency: string): Promise<Directory | undefined> { return await this.#docs.get(agency) }
  async list (): Promise<Directory[]> { return await this.#docs.list() }
  async put (directory: Directory): Promise<void> { await this.#docs.put(directory.agency, directory) }
}

export class RedisDisclosureStore implements DisclosureStore {
  readonly #docs: HashDocuments<DisclosureCatalog>
  constructor (client: Redis, keys: KeyLayout) {
    this.#docs = new HashDocuments(client, keys.disclosures, keys.changes, 'disclosure')
  }

  async get (agency: string): Promise<DisclosureCatalog | undefined> { return await this.#docs.get(agency) }
  async list (): Promise<DisclosureCatalog[]> { return await this.#docs.list() }
  async put (catalog: DisclosureCatalog): Promise<void> { await this.#docs.put(catalog.agency, catalog) }
}
