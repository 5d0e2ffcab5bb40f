// Helpers for agencies writing their directory and disclosure catalog in code:
// validated with @govex/core at definition time, with every problem listed.
import { validateDirectory, validateDisclosure, type Directory, type Resource, type DisclosureCatalog, type Problem } from '@govex/core'

export class GovexDocumentError extends Error {
  readonly code = 'GOVEX_ERR_INVALID_DOCUMENT'
  readonly problems: Problem[]
  constructor (what: string, problems: Problem[]) {
    super(`${what} is invalid: ` + problems.map(p => `${p.path || '/'} ${p.message} (${p.code})`).join('; '))
    this.name = 'GovexDocumentError'
    this.problems = problems
  }
}

/** A resource as written in code; the literal type is kept so its item names can type a client. */
export function defineResource<const R extends Resource> (resource: R): R {
  return resource
}

/** A directory, validated against MODEL.md (schema and rules); throws GovexDocumentError listing every problem. */
export function defineDirectory<const D extends Directory> (directory: D, options: { allowHosts?: readonly string[] } = {}): D {
  const result = validateDirectory(directory, options)
  if (!result.ok) throw new GovexDocumentError(`directory of ${String(directory?.agency)}`, result.problems)
  return directory
}

/** A disclosure catalog, validated against MODEL.md; throws GovexDocumentError listing every problem. */
export function defineDisclosure<const D extends DisclosureCatalog> (catalog: D): D {
  const result = validateDisclosure(catalog)
  if (!result.ok) throw new GovexDocumentError(`disclosure catalog of ${String(catalog?.agency)}`, result.problems)
  return catalog
}
