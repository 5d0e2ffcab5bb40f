// Every agency's current directory, held in memory.
import type { Directory } from '../../schemas/directory.js'
import type { DirectoryStore, StoreChange } from '../types.js'
import { MemoryDocumentStore } from './documents.js'

export class MemoryDirectoryStore extends MemoryDocumentStore<Directory> implements DirectoryStore {
  protected keyOf (directory: Directory): string {
    return directory.agency
  }

  protected changeOf (agency: string): StoreChange {
    return { kind: 'directory', id: agency }
  }
}
