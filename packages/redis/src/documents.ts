// Members, directories and disclosure catalogs: one Redis hash per kind
// (field = id, value = the document's JSON; hash-documents.ts). Each write and
// its change notification go in one MULTI, so no gateway misses a change it could read.
import type { Redis } from 'ioredis'
import type { Directory, DirectoryStore, DisclosureCatalog, DisclosureStore, Member, MemberRegistry } from '@govex/core'
import { HashDocuments } from './hash-documents.js'
import type { KeyLayout } from './keys.js'

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
