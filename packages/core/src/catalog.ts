// The municipal catalog (MODEL.md "Catalog", Art. 12): every agency's current
// directory compiled into indexes by resource id, provider, classification and
// data item, so authorize() and discovery are map lookups, never scans.
import type { Directory, Resource } from './schemas/directory.js'

export interface CatalogEntry {
  readonly resource: Resource
  /** the agency whose directory lists the resource */
  readonly provider: string
  /** names of the resource's data items, for field checks */
  readonly itemNames: ReadonlySet<string>
  /** names of the query parameters marked `required: true` */
  readonly requiredQuery: readonly string[]
}

export interface CatalogQuery {
  provider?: string | undefined
  /** words that must all occur in the name or description, case-insensitively */
  q?: string | undefined
  classification?: string | undefined
}

export interface Catalog {
  /** every entry by resource id, in resource id order */
  readonly resources: ReadonlyMap<string, CatalogEntry>
  readonly size: number
  get (id: string): CatalogEntry | undefined
  byProvider (provider: string): readonly CatalogEntry[]
  byClassification (classification: string): readonly CatalogEntry[]
  byItem (name: string): readonly CatalogEntry[]
  /** entries matching every given criterion, in resource id order */
  search (query: CatalogQuery): CatalogEntry[]
}

const NONE: readonly CatalogEntry[] = Object.freeze([])

/** A resource as callers that may not see endpoints get it (PROTOCOL.md "Discovery"). */
export function publicResource (resource: Resource): Omit<Resource, 'endpoint'> {
  const { endpoint: _endpoint, ...rest } = resource
  return rest
}

function fold (text: string): string {
  return text.normalize('NFKC').toLowerCase()
}

function push<K> (index: Map<K, CatalogEntry[]>, key: K, entry: CatalogEntry): void {
  const list = index.get(key)
  if (list === undefined) index.set(key, [entry])
  else list.push(entry)
}

/**
 * Compiles directories into a catalog. A resource id listed twice (only
 * possible for documents that bypassed validation) keeps its first listing.
 */
export function compileCatalog (directories: readonly Directory[]): Catalog {
  const collected: CatalogEntry[] = []
  const seen = new Set<string>()
  for (const directory of directories) {
    for (const resource of directory.resources) {
      if (seen.has(resource.id)) continue
      seen.add(resource.id)
      const items = Array.isArray(resource.items) ? resource.items : []
      collected.push(Object.freeze({
        resource,
        provider: directory.agency,
        itemNames: new Set(items.map(item => item.name)),
        requiredQuery: Object.freeze((resource.query ?? []).filter(p => p.required === true).map(p => p.name))
      }))
    }
  }
  // Id order, so every gateway lists the catalog the same way whatever the store's order.
  // Ids are unique by now, so no two compare equal.
  collected.sort((a, b) => a.resource.id < b.resource.id ? -1 : 1)

  const resources = new Map<string, CatalogEntry>()
  const providers = new Map<string, CatalogEntry[]>()
  const classifications = new Map<string, CatalogEntry[]>()
  const items = new Map<string, CatalogEntry[]>()
  const texts = new Map<CatalogEntry, string>()
  for (const entry of collected) {
    resources.set(entry.resource.id, entry)
    push(providers, entry.provider, entry)
    push(classifications, entry.resource.classification, entry)
    for (const name of entry.itemNames) push(items, name, entry)
    texts.set(entry, fold(entry.resource.name + '\n' + entry.resource.description))
  }
  for (const index of [providers, classifications, items]) for (const list of index.values()) Object.freeze(list)

  const catalog: Catalog = {
    resources,
    size: resources.size,
    get: id => resources.get(id),
    byProvider: provider => providers.get(provider) ?? NONE,
    byClassification: classification => classifications.get(classification) ?? NONE,
    byItem: name => items.get(name) ?? NONE,
    search (query) {
      let candidates: Iterable<CatalogEntry> = resources.values()
      // Start from the narrowest index given, then filter.
      if (query.provider !== undefined) candidates = catalog.byProvider(query.provider)
      else if (query.classification !== undefined) candidates = catalog.byClassification(query.classification)
      const words = query.q === undefined ? [] : fold(query.q).split(/\s+/).filter(w => w !== '')
      const out: CatalogEntry[] = []
      for (const entry of candidates) {
        if (query.classification !== undefined && entry.resource.classification !== query.classification) continue
        const text = texts.get(entry) as string
        if (words.every(word => text.includes(word))) out.push(entry)
      }
      return out
    }
  }
  return Object.freeze(catalog)
}
