// Disclosure catalog rules beyond the schema (the schema already holds entries
// to Art. 14's categories). Entry links are rendered on the public portal, so
// they must be web links: a `javascript:` or `data:` URL there would run in a
// citizen's browser.
import type { DisclosureCatalog } from '../schemas/disclosure.js'
import type { Problem } from '../problems.js'
import { pointer } from '../problems.js'

const WEB_URL = /^https?:\/\//i

export function disclosureRules (catalog: DisclosureCatalog): Problem[] {
  const problems: Problem[] = []
  catalog.entries.forEach((entry, i) => {
    if (entry.url !== undefined && !WEB_URL.test(entry.url)) {
      problems.push({ code: 'url-scheme', path: pointer(pointer('/entries', i), 'url'), message: `"${entry.url}" must be an http:// or https:// link` })
    }
  })
  return problems
}
