// Disclosure catalogs on files: `<dir>/disclosures/<agency>.json`.
import { join } from 'node:path'
import { isMemberId } from '../../ids.js'
import { MemoryDisclosureStore } from '../memory/disclosures.js'
import type { MemoryStoreOptions } from '../memory/documents.js'
import { writeFileAtomic } from './atomic.js'
import { documentPath, loadDocuments, type FileStoreOptions } from './documents.js'

export class FileDisclosureStore extends MemoryDisclosureStore {
  readonly #folder: string

  private constructor (folder: string, options: MemoryStoreOptions) {
    super(options)
    this.#folder = folder
  }

  static async open (options: FileStoreOptions): Promise<FileDisclosureStore> {
    const folder = join(options.dir, 'disclosures')
    const store = new FileDisclosureStore(folder, options)
    for (const [agency, text] of await loadDocuments(folder, isMemberId, 'agency')) store.restore(agency, text)
    return store
  }

  protected override async persist (agency: string, text: string): Promise<void> {
    await writeFileAtomic(documentPath(this.#folder, agency, isMemberId, 'agency id'), text)
  }
}
