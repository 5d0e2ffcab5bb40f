// The catalog linter (MODEL.md "Catalog", Art. 9 and 12): reports what an
// operator should look at, never fixes it. Paths point into the catalog seen as
// `{ resources: { <resource id>: <resource> } }`.
import type { Catalog, CatalogEntry } from './catalog.js'
import type { Problem } from './problems.js'
import { pointer } from './problems.js'

export type LintFinding = Problem & {
  /** ids of the resources the finding is about */
  resources: string[]
}

function resourcePath (entry: CatalogEntry, ...tokens: (string | number)[]): string {
  return tokens.reduce<string>((path, token) => pointer(path, token), pointer('/resources', entry.resource.id))
}

function duplicateItems (catalog: Catalog): LintFinding[] {
  // item name + classification -> entries, then keep the groups offered by more than one agency
  const groups = new Map<string, { name: string, classification: string, entries: CatalogEntry[] }>()
  for (const entry of catalog.resources.values()) {
    for (const name of entry.itemNames) {
      const key = name + '\u0000' + entry.resource.classification
      const group = groups.get(key)
      if (group === undefined) groups.set(key, { name, classification: entry.resource.classification, entries: [entry] })
      else group.entries.push(entry)
    }
  }
  const findings: LintFinding[] = []
  // Sorted by item name, then classification, so the report reads the same on every run.
  const keys = [...groups.keys()].sort()
  for (const key of keys) {
    const { name, classification, entries } = groups.get(key) as { name: string, classification: string, entries: CatalogEntry[] }
    const providers = [...new Set(entries.map(e => e.provider))]
    if (providers.length < 2) continue
    const first = entries[0] as CatalogEntry
    findings.push({
      code: 'duplicate-item',
      path: resourcePath(first, 'items', first.resource.items.findIndex(item => item.name === name)),
      message: `data item "${name}" (${classification}) is offered by ${providers.join(', ')}; ` +
        'possible duplicate construction (Art. 9): consider one authoritative provider and grants to the others',
      resources: entries.map(e => e.resource.id)
    })
  }
  return findings
}

export function lintCatalog (catalog: Catalog): LintFinding[] {
  const findings: LintFinding[] = []
  for (const entry of catalog.resources.values()) {
    const { resource } = entry
    if (resource.sharing.type === 'conditional' && (resource.sharing.conditions ?? '').trim() === '') {
      findings.push({
        code: 'conditional-without-conditions',
        path: resourcePath(entry, 'sharing', 'conditions'),
        message: `${resource.id} is shared conditionally but states no conditions; its agency should add them`,
        resources: [resource.id]
      })
    }
    if (entry.itemNames.size === 0) {
      findings.push({
        code: 'no-items',
        path: resourcePath(entry, 'items'),
        message: `${resource.id} lists no data items; its agency should list what it provides`,
        resources: [resource.id]
      })
    }
  }
  return findings.concat(duplicateItems(catalog))
}
