// Members (operator), directories (that agency or an operator) and disclosure
// catalogs (that agency or an operator): read, and create or replace. Every
// write is validated (400 schema, 422 rules), audited as an admin action, and
// live on this gateway before it is answered.
import { DisclosureCatalog, Directory, Member, digestOf, validateDirectory, validateDisclosure, validateMember } from '@govex/core'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Principal } from '../auth.js'
import type { RouteOptions } from '../context.js'
import { acceptedAt, idMismatch } from '../documents.js'
import type { SubmissionProblem } from '../documents.js'
import { httpError } from '../errors.js'
import { AgencyParams, DirectoryAnswer, DirectoryReceipt, DisclosureReceipt, MemberList, MemberParams, errorResponses, shared } from '../http-schemas.js'
import { stateOf, type AdminTrail } from '../request-state.js'
import { visibleResource } from './discovery.js'

export async function registryRoutes (app: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const { stores, runtime, audit, config } = ctx

  /** Directories and disclosure catalogs belong to registered agencies only (422 otherwise). */
  function unknownAgency (agencyId: string): SubmissionProblem | undefined {
    const agency = runtime.state.members.get(agencyId)
    if (agency !== undefined && agency.roles.has('agency')) return undefined
    return {
      problem: { code: 'unknown-agency', path: '/agency', message: 'must be a member with the agency role' },
      alone: `${agencyId} is not a registered agency: an operator registers it first (PUT /v1/members/${agencyId})`
    }
  }

  /** The agency a submitted document names, as submitted (the route's schema has checked it is a string). */
  const agencyOf = (body: unknown): string => (body as { agency: string }).agency

  /** After a write: make it live here, record it, then answer. */
  async function committed (request: FastifyRequest, digest: string): Promise<void> {
    (stateOf(request).trail as AdminTrail).digest = digest
    await runtime.refresh()
    await audit.record(request, 200, null)
  }

  // ---- members ----

  app.get('/v1/members', {
    config: { roles: ['operator'] },
    schema: { summary: 'The member registry', tags: ['members'], response: { 200: MemberList, ...errorResponses(401, 403) } }
  }, async () => ({ members: await stores.members.list() }))

  app.get<{ Params: { id: string } }>('/v1/members/:id', {
    config: { roles: ['operator'] },
    schema: { summary: 'One member', tags: ['members'], params: MemberParams, response: { 200: shared(Member, 'the member'), ...errorResponses(400, 401, 403, 404) } }
  }, async request => {
    const member = await stores.members.get(request.params.id)
    if (member === undefined) throw httpError('GOVEX_ERR_NOT_FOUND', `no member ${request.params.id}: see GET /v1/members`)
    return member
  })

  app.put<{ Params: { id: string }, Body: Member }>('/v1/members/:id', {
    config: { roles: ['operator'], audit: 'member.put', auditTarget: 'id' },
    schema: { summary: 'Create or replace a member (public keys, roles)', tags: ['members'], params: MemberParams, body: Member, response: { 200: shared(Member, 'the member as stored'), ...errorResponses(400, 401, 403, 413, 415, 422) } }
  }, async request => {
    const id = (request.body as { id: string }).id
    const member = acceptedAt('member', validateMember(request.body), [id === request.params.id ? undefined : idMismatch('member', '/id', id, request.params.id)])
    await stores.members.put(member)
    await committed(request, digestOf(member))
    return member
  })

  // ---- directories ----

  app.put<{ Params: { agencyId: string }, Body: Directory }>('/v1/directories/:agencyId', {
    config: { roles: ['operator'], ownAgencyParam: 'agencyId', audit: 'directory.put', auditTarget: 'agencyId' },
    schema: { summary: 'Submit an agency\'s directory (Art. 11): answers { agency, version }', tags: ['directories'], params: AgencyParams, body: Directory, response: { 200: DirectoryReceipt, ...errorResponses(400, 401, 403, 409, 413, 415, 422) } }
  }, async request => {
    const agencyId = request.params.agencyId
    const agency = agencyOf(request.body)
    const directory = acceptedAt('directory', validateDirectory(request.body, { allowHosts: config.upstream.allowHosts }), [
      agency === agencyId ? undefined : idMismatch('directory', '/agency', agency, agencyId),
      unknownAgency(agencyId)
    ])
    const current = await stores.directories.get(agencyId)
    if (current !== undefined && directory.version < current.version) {
      throw httpError('GOVEX_ERR_CONFLICT', `${agencyId}'s directory is at version ${current.version}; submit version ${current.version} or later`)
    }
    await stores.directories.put(directory)
    await committed(request, digestOf(directory))
    return { agency: directory.agency, version: directory.version }
  })

  app.get<{ Params: { agencyId: string } }>('/v1/directories/:agencyId', {
    schema: { summary: 'An agency\'s current directory (endpoints only for operators and that agency)', tags: ['directories'], params: AgencyParams, response: { 200: DirectoryAnswer, ...errorResponses(400, 401, 404) } }
  }, async request => {
    const directory = await stores.directories.get(request.params.agencyId)
    if (directory === undefined) throw httpError('GOVEX_ERR_NOT_FOUND', `${request.params.agencyId} has no directory: check the agency id (GET /v1/catalog lists the providers), or the agency submits one (PUT /v1/directories/${request.params.agencyId})`)
    const principal = stateOf(request).principal as Principal
    return { ...directory, resources: directory.resources.map(resource => visibleResource(principal, directory.agency, resource)) }
  })

  // ---- disclosure catalogs (the public reads are in portal.ts) ----

  app.put<{ Params: { agencyId: string }, Body: DisclosureCatalog }>('/v1/disclosures/:agencyId', {
    config: { roles: ['operator'], ownAgencyParam: 'agencyId', audit: 'disclosure.put', auditTarget: 'agencyId' },
    schema: { summary: 'Publish an agency\'s disclosure catalog (Art. 14)', tags: ['disclosures'], params: AgencyParams, body: DisclosureCatalog, response: { 200: DisclosureReceipt, ...errorResponses(400, 401, 403, 413, 415, 422) } }
  }, async request => {
    const agencyId = request.params.agencyId
    const agency = agencyOf(request.body)
    const catalog = acceptedAt('disclosure catalog', validateDisclosure(request.body), [
      agency === agencyId ? undefined : idMismatch('disclosure catalog', '/agency', agency, agencyId),
      unknownAgency(agencyId)
    ])
    await stores.disclosures.put(catalog)
    await committed(request, digestOf(catalog))
    return { agency: catalog.agency, entries: catalog.entries.length }
  })
}
