// The public portal (PROTOCOL.md "Public portal", Art. 13-14): every agency's
// disclosure catalog, without authentication; one as JSON or, for
// `Accept: text/html`, a readable page. ETag and cache-control on each, 304 for
// a matching If-None-Match.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RouteOptions } from '../context.js'
import { httpError } from '../errors.js'
import { AgencyParams, DisclosureList, HtmlPage, NO_TOKEN, NotModified, answerIn, errorResponses } from '../http-schemas.js'
import { DisclosurePages, etagMatches } from '../disclosure-page.js'
import type { Representation } from '../disclosure-page.js'
import { DisclosureCatalog } from '@govex/core'

/** One catalog: JSON by default, the readable page when the Accept header prefers text/html. */
const CatalogOrPage = answerIn('the agency\'s disclosure catalog: JSON, or a readable page when the Accept header prefers text/html', {
  'application/json': DisclosureCatalog,
  'text/html': HtmlPage
})

const CACHE_CONTROL = 'public, max-age=60, must-revalidate'

interface Preference {
  /** the q of the most specific range naming the type (0 when none does) */
  q: number
  /** where that range stands in the header, for ties */
  at: number
}

/** How much an Accept header wants `type` (RFC 9110 §12.5.1): the most specific matching range decides. */
function preference (ranges: readonly string[], type: string): Preference {
  const major = type.slice(0, type.indexOf('/'))
  let best: Preference & { specificity: number } = { q: 0, at: Infinity, specificity: -1 }
  ranges.forEach((range, at) => {
    const [name = '', ...params] = range.split(';').map(part => part.trim().toLowerCase())
    const specificity = name === type ? 2 : name === major + '/*' ? 1 : name === '*/*' ? 0 : -1
    if (specificity <= best.specificity) return
    const qParam = params.find(p => p.startsWith('q='))
    const q = qParam === undefined ? 1 : Number(qParam.slice(2))
    best = { q: Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0, at, specificity }
  })
  return best
}

/**
 * Whether to answer the readable page: the Accept header wants text/html more
 * than application/json (browsers), or as much and names it first. Anything
 * else, such as no Accept header or one that takes anything (curl), gets JSON.
 */
function wantsHtml (request: FastifyRequest): boolean {
  const accept = request.headers.accept
  if (typeof accept !== 'string') return false
  const ranges = accept.split(',')
  const html = preference(ranges, 'text/html')
  const json = preference(ranges, 'application/json')
  return html.q > 0 && (html.q > json.q || (html.q === json.q && html.at < json.at))
}

function answer (request: FastifyRequest, reply: FastifyReply, representation: Representation): string | undefined {
  reply.header('etag', representation.etag).header('cache-control', CACHE_CONTROL).header('vary', 'accept')
  if (etagMatches(request.headers['if-none-match'], representation.etag)) {
    reply.code(304)
    return undefined
  }
  reply.type(representation.contentType)
  return representation.body
}

export async function portalRoutes (app: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const pages = new WeakMap<ReadonlyMap<string, DisclosureCatalog>, DisclosurePages>()
  function current (): DisclosurePages {
    // before the first load (Redis down at start) an empty list would be cached as the truth
    if (!ctx.runtime.loaded) throw httpError('GOVEX_ERR_UNAVAILABLE', 'the gateway has not loaded the disclosure catalogs yet: its stores do not answer; retry shortly')
    const catalogs = ctx.runtime.state.disclosures
    let out = pages.get(catalogs)
    if (out === undefined) pages.set(catalogs, out = new DisclosurePages(catalogs))
    return out
  }

  app.get('/public/disclosures', {
    config: { public: true },
    schema: { summary: 'Every agency\'s disclosure catalog (Art. 14)', tags: ['portal'], ...NO_TOKEN, response: { 200: DisclosureList, 304: NotModified, ...errorResponses() } }
  }, async (request, reply) => answer(request, reply, current().list()))

  app.get<{ Params: { agencyId: string } }>('/public/disclosures/:agencyId', {
    config: { public: true },
    schema: { summary: 'One agency\'s disclosure catalog: JSON, or a page for Accept: text/html', tags: ['portal'], ...NO_TOKEN, params: AgencyParams, response: { 200: CatalogOrPage, 304: NotModified, ...errorResponses(400, 404) } }
  }, async (request, reply) => {
    const site = current()
    const agency = request.params.agencyId
    const representation = wantsHtml(request) ? site.html(agency) : site.json(agency)
    if (representation === undefined) throw httpError('GOVEX_ERR_NOT_FOUND', `${agency} has not published a disclosure catalog: check the agency id; GET /public/disclosures lists every published one`)
    return answer(request, reply, representation)
  })
}
