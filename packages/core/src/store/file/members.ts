// The member registry on files: `<dir>/members/<id>.json`.
import { join } from 'node:path'
import { isMemberId } from '../../ids.js'
import { MemoryMemberRegistry } from '../memory/members.js'
import type { MemoryStoreOptions } from '../memory/documents.js'
import { writeFileAtomic } from './atomic.js'
import { documentPath, loadDocuments, type FileStoreOptions } from './documents.js'

export class FileMemberRegistry extends MemoryMemberRegistry {
  readonly #folder: string

  private constructor (folder: string, options: MemoryStoreOptions) {
    super(options)
    this.#folder = folder
  }

  static async open (options: FileStoreOptions): Promise<FileMemberRegistry> {
    const folder = join(options.dir, 'members')
    const store = new FileMemberRegistry(folder, options)
    for (const [id, text] of await loadDocuments(folder, isMemberId, 'id')) store.restore(id, text)
    return store
  }

  protected override async persist (id: string, text: string): Promise<void> {
    await writeFileAtomic(documentPath(this.#folder, id, isMemberId, 'member id'), text)
  }
}
