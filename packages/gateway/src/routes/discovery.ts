// Discovery (PROTOCOL.md "Discovery", any authenticated member): the compiled
// catalog, one resource, the catalog lint (operator), and the caller's grants.
// Endpoints are shown only to operators and to the resource's own provider.
import { lintCatalog, publicResource } from '@govex/core'
import type { CatalogEntry, Grant, Resource } from '@govex/core'
import type { FastifyInstance } from 'fastify'
import type { Principal } from '../auth.js'
import type { RouteOptions } from '../context.js'
import { httpError } from '../errors.js'
import { CatalogAnswer, CatalogQuery, GrantsAnswer, LintAnswer, ResourceParams, VisibleResource, errorResponses, shared } from '../http-schemas.js'
import { stateOf } from '../request-state.js'

/** A resource as this caller may see it. */
export function visibleResource (principal: Principal | null, provider: string, resource: Resource): Resource | Omit<Resource, 'endpoint'> {
  if (principal !== null && (principal.roles.has('operator') || principal.id === provider)) return resource
  return publicResource(resource)
}

function view (principal: Principal | null, entry: CatalogEntry): Resource | Omit<Resource, 'endpoint'> {
  return visibleResource(principal, entry.provider, entry.resource)
}

export async function discoveryRoutes (app: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const { runtime } = ctx

  app.get<{ Querystring: { provider?: string, q?: string, classification?: string } }>('/v1/catalog', {
    schema: { summary: 'The compiled catalog (public descriptions)', tags: ['discovery'], querystring: CatalogQuery, response: { 200: CatalogAnswer, ...errorResponses(400, 401) } }
  }, async request => {
    const principal = stateOf(request).principal
    const entries = runtime.state.catalog.search(request.query)
    return { resources: entries.map(entry => view(principal, entry)) }
  })

  app.get('/v1/catalog/lint', {
    config: { roles: ['operator'] },
    schema: { summary: 'Catalog problems: duplicate data items across agencies (Art. 9), conditional sharing without conditions, ...', tags: ['discovery'], response: { 200: LintAnswer, ...errorResponses(401, 403) } }
  }, async () => {
    return { findings: lintCatalog(runtime.state.catalog) }
  })

  app.get<{ Params: { resourceId: string } }>('/v1/catalog/:resourceId', {
    schema: { summary: 'One resource of the catalog', tags: ['discovery'], params: ResourceParams, response: { 200: shared(VisibleResource, 'the resource (its endpoint only for operators and its provider)'), ...errorResponses(400, 401, 404) } }
  }, async request => {
    const entry = runtime.state.catalog.get(request.params.resourceId)
    if (entry === undefined) throw httpError('GOVEX_ERR_NOT_FOUND', `resource ${request.params.resourceId} is not in the catalog: see GET /v1/catalog`)
    return view(stateOf(request).principal, entry)
  })

  app.get('/v1/grants/mine', {
    schema: { summary: 'The caller\'s grants in the active plan, with fields, purposes, conditions, quota and validity; a grant whose resource has left the catalog or is now listed sharing none is left out (the gateway refuses it)', tags: ['discovery'], response: { 200: GrantsAnswer, ...errorResponses(401) } }
  }, async (request) => {
    const principal = stateOf(request).principal as Principal
    const plan = runtime.state.plan
    if (plan === null) return { consumer: principal.id, plan: null, grants: [] }
    const { validFrom, validUntil } = plan.state
    // Only what authorize() honours: a grant whose resource has left the catalog or is
    // now listed `sharing: none` was skipped by the plan index (per resource, so the
    // lookup tells). Validity as in force: a grant without its own window has the plan's.
    const grants = plan.grantsFor(principal.id)
      .filter((grant: Grant) => plan.lookup(principal.id, grant.resource) !== undefined)
      .map((grant: Grant) => ({ ...grant, validFrom: grant.validFrom ?? validFrom, validUntil: grant.validUntil ?? validUntil }))
    return { consumer: principal.id, plan: plan.plan, grants }
  })
}
