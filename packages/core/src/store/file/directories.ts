// Agency directories on files: `<dir>/directories/<agency>.json`, the current one each.
import { join } from 'node:path'
import { isMemberId } from '../../ids.js'
import { MemoryDirectoryStore } from '../memory/directories.js'
import type { MemoryStoreOptions } from '../memory/documents.js'
import { writeFileAtomic } from './atomic.js'
import { documentPath, loadDocuments, type FileStoreOptions } from './documents.js'

export class FileDirectoryStore extends MemoryDirectoryStore {
  readonly #folder: string

  private constructor (folder: string, options: MemoryStoreOptions) {
    super(options)
    this.#folder = folder
  }

  static async open (options: FileStoreOptions): Promise<FileDirectoryStore> {
    const folder = join(options.dir, 'directories')
    const store = new FileDirectoryStore(folder, options)
    for (const [agency, text] of await loadDocuments(folder, isMemberId, 'agency')) store.restore(agency, text)
    return store
  }

  protected override async persist (agency: string, text: string): Promise<void> {
    await writeFileAtomic(documentPath(this.#folder, agency, isMemberId, 'agency id'), text)
  }
}
