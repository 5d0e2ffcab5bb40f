// Every agency's disclosure catalog (Art. 14), held in memory.
import type { DisclosureCatalog } from '../../schemas/disclosure.js'
import type { DisclosureStore, StoreChange } from '../types.js'
import { MemoryDocumentStore } from './documents.js'

export class MemoryDisclosureStore extends MemoryDocumentStore<DisclosureCatalog> implements DisclosureStore {
  protected keyOf (catalog: DisclosureCatalog): string {
    return catalog.agency
  }

  protected changeOf (agency: string): StoreChange {
    return { kind: 'disclosure', id: agency }
  }
}
