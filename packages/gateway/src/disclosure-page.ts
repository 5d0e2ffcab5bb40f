// The public portal's representations of disclosure catalogs (Art. 14): JSON,
// and a readable HTML page for `Accept: text/html`, each with a strong ETag so
// browsers and caches revalidate with If-None-Match. Built once per catalog
// version and kept until the catalogs change.
import { createHash } from 'node:crypto'
import { DISCLOSURE_CATEGORIES } from '@govex/core'
import type { DisclosureCatalog, DisclosureEntry } from '@govex/core'

export interface Representation {
  readonly body: string
  readonly etag: string
  readonly contentType: string
}

const CATEGORY_TITLES: Readonly<Record<string, string>> = {
  'functions-and-contacts': 'Functions and contacts',
  'laws-and-normative-documents': 'Laws, regulations and normative documents',
  'licensing-matters': 'Licensing matters',
  'plans-and-programs': 'Plans and programs',
  'budgets-and-public-funds': 'Budgets and public funds',
  'public-services': 'Public services',
  emergencies: 'Emergencies',
  'civil-service-recruitment': 'Civil service recruitment',
  'other-decided-by-government': 'Other matters decided by the government'
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, c => ESCAPES[c] as string)
}

function etagOf (body: string): string {
  return '"' + createHash('sha256').update(body).digest('base64url').slice(0, 27) + '"'
}

function represent (body: string, contentType: string): Representation {
  return Object.freeze({ body, etag: etagOf(body), contentType })
}

/** Only http(s) links are rendered as links: a `javascript:` URL stays text. */
function safeHref (url: string): string | null {
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null
  } catch {
    return null
  }
}

function entryHtml (entry: DisclosureEntry): string {
  const href = entry.url === undefined ? null : safeHref(entry.url)
  const title = href === null ? escapeHtml(entry.title) : `<a href="${escapeHtml(href)}" rel="noopener noreferrer">${escapeHtml(entry.title)}</a>`
  const summary = entry.summary === undefined || entry.summary === '' ? '' : `<p>${escapeHtml(entry.summary)}</p>`
  return `<li><h3>${title}</h3><p class="date">Published <time datetime="${escapeHtml(entry.publishedAt)}">${escapeHtml(entry.publishedAt)}</time></p>${summary}</li>`
}

export function disclosureHtml (catalog: DisclosureCatalog): string {
  const agency = escapeHtml(catalog.agency)
  const sections: string[] = []
  for (const category of DISCLOSURE_CATEGORIES) {
    const entries = catalog.entries.filter(e => e.category === category)
    if (entries.length === 0) continue
    sections.push(`<section id="${category}"><h2>${escapeHtml(CATEGORY_TITLES[category] ?? category)}</h2><ul>${entries.map(entryHtml).join('')}</ul></section>`)
  }
  const body = sections.length === 0 ? '<p>This agency has not published any entries yet.</p>' : sections.join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Disclosure catalog of ${agency}</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}h2{border-bottom:1px solid #ccc}ul{list-style:none;padding:0}li{margin-bottom:1rem}.date{color:#555;font-size:.9em;margin:0}</style>
</head><body><header><h1>Disclosure catalog of ${agency}</h1><p>Government information published proactively (Art. 14).</p></header>
<main>
${body}
</main></body></html>
`
}

/** Cached representations of the current catalogs; rebuild when the catalogs change. */
export class DisclosurePages {
  readonly #catalogs: ReadonlyMap<string, DisclosureCatalog>
  readonly #json = new Map<string, Representation>()
  readonly #html = new Map<string, Representation>()
  #list: Representation | null = null

  constructor (catalogs: ReadonlyMap<string, DisclosureCatalog>) {
    this.#catalogs = catalogs
  }

  list (): Representation {
    this.#list ??= represent(JSON.stringify({ disclosures: [...this.#catalogs.values()] }), 'application/json; charset=utf-8')
    return this.#list
  }

  json (agency: string): Representation | undefined {
    const catalog = this.#catalogs.get(agency)
    if (catalog === undefined) return undefined
    let out = this.#json.get(agency)
    if (out === undefined) this.#json.set(agency, out = represent(JSON.stringify(catalog), 'application/json; charset=utf-8'))
    return out
  }

  html (agency: string): Representation | undefined {
    const catalog = this.#catalogs.get(agency)
    if (catalog === undefined) return undefined
    let out = this.#html.get(agency)
    if (out === undefined) this.#html.set(agency, out = represent(disclosureHtml(catalog), 'text/html; charset=utf-8'))
    return out
  }
}

/** Whether an If-None-Match header names this ETag (weak comparison, `*` included). */
export function etagMatches (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  const bare = etag.replace(/^W\//, '')
  return header.split(',').some(tag => tag.trim().replace(/^W\//, '') === bare)
}
