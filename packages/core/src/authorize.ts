// The exchange decision (PROTOCOL.md "Exchange"): resource exists → zone →
// grant in the active plan within validity → purpose → fields → conditions →
// required query parameters; the first check that fails answers. Hot path:
// a few Map lookups and Set checks on the plan index (the grants of one
// consumer and resource, by purpose); messages are built only for denials.
import type { Catalog, CatalogEntry } from './catalog.js'
import type { ErrorCode } from './codes.js'
import type { PlanRef } from './schemas/envelope.js'
import type { Grant } from './schemas/plan.js'
import type { QuotaLimits } from './store/types.js'
import type { IndexedGrant, PlanIndex } from './plan/plan-index.js'
import type { Problem } from './problems.js'

export type Zone = 'extranet' | 'intranet'

export interface AuthorizeRequest {
  consumer: string
  resourceId: string
  zone: Zone
  purpose: string
  /** default: every field the grant allows */
  fields?: readonly string[] | undefined
  userId?: string | undefined
  caseRef?: string | undefined
  query?: Readonly<Record<string, unknown>> | undefined
  /** epoch ms */
  now: number
}

export type AuthorizeResult =
  | {
    allow: true
    grant: Grant
    /** the fields to request and keep: the requested ones, or the grant's. Shared: do not mutate. */
    fields: string[]
    entry: CatalogEntry
    plan: PlanRef
    /** the grant's quota, null when unlimited */
    quota: QuotaLimits | null
  }
  | {
    allow: false, code: ErrorCode, message: string, entry?: CatalogEntry, grant?: Grant, plan?: PlanRef
    /** for GOVEX_ERR_BAD_REQUEST: each missing query parameter (PROTOCOL.md lists every problem) */
    problems?: Problem[]
  }

/** Whether a gateway in `zone` serves a resource of `level` (MODEL.md "Directory"). */
export function zoneServes (zone: Zone, level: string): boolean {
  // Anything but an intranet gateway is treated as extranet: fail closed.
  return zone === 'intranet' || level === 'public' || level === 'internal'
}

function within (grant: IndexedGrant, now: number): boolean {
  return now >= grant.validFrom && now <= grant.validUntil
}

function iso (ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : 'an invalid instant'
}

function windowOf (grant: IndexedGrant): string {
  return `from ${iso(grant.validFrom)} until ${iso(grant.validUntil)}`
}

function missing (value: string | undefined): boolean {
  return typeof value !== 'string' || value === ''
}

export function authorize (index: PlanIndex | null, catalog: Catalog, request: AuthorizeRequest): AuthorizeResult {
  const { consumer, resourceId, purpose, now } = request
  const entry = catalog.get(resourceId)
  if (entry === undefined) {
    return { allow: false, code: 'GOVEX_ERR_NOT_FOUND', message: `resource ${resourceId} is not in the catalog: see GET /v1/catalog` }
  }
  const level = entry.resource.securityLevel
  if (!zoneServes(request.zone, level)) {
    return { allow: false, code: 'GOVEX_ERR_ZONE', message: `${resourceId} is ${level}: this ${request.zone} gateway does not serve it; call an intranet gateway`, entry }
  }
  if (index === null) {
    return { allow: false, code: 'GOVEX_ERR_NO_GRANT', message: `there is no active sharing plan, so ${consumer} has no active grant for ${resourceId}`, entry }
  }
  const plan = index.plan
  const grants = index.lookup(consumer, resourceId)
  if (grants === undefined) {
    return { allow: false, code: 'GOVEX_ERR_NO_GRANT', message: `${consumer} has no active grant for ${resourceId}`, entry, plan }
  }

  // The first grant listing the purpose that is in force now, in plan order; and the
  // first listing it at all, which a denial names.
  let chosen: IndexedGrant | undefined
  let listed: IndexedGrant | undefined
  const candidates = grants.byPurpose === null ? grants.any : grants.byPurpose.get(purpose)
  if (candidates !== undefined) {
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i] as IndexedGrant
      if (!candidate.purposes.has(purpose)) continue
      listed ??= candidate
      if (within(candidate, now)) { chosen = candidate; break }
    }
  }
  if (chosen === undefined) return purposeOrValidity(grants.any, listed, request, entry, plan)

  const grant = chosen.grant
  let fields = chosen.fields
  const requested = request.fields
  if (requested !== undefined) {
    let outside: string[] | undefined
    for (let i = 0; i < requested.length; i++) {
      const field = requested[i] as string
      if (!chosen.fieldSet.has(field)) (outside ??= []).push(field)
    }
    if (outside !== undefined) {
      return {
        allow: false,
        code: 'GOVEX_ERR_FIELDS_NOT_GRANTED',
        message: `grant ${grant.id} does not cover field${outside.length === 1 ? '' : 's'} ${outside.join(', ')} of ${resourceId}; it allows ${chosen.fields.join(', ')}`,
        entry, grant, plan
      }
    }
    // The caller's own list, unchanged: the result is read, never written.
    fields = requested as string[]
  }

  if (chosen.requireCaseRef && missing(request.caseRef)) {
    return { allow: false, code: 'GOVEX_ERR_CONDITION_UNMET', message: `grant ${grant.id} requires a caseRef: send the case reference in the envelope`, entry, grant, plan }
  }
  if (chosen.requireUserId && missing(request.userId)) {
    return { allow: false, code: 'GOVEX_ERR_CONDITION_UNMET', message: `grant ${grant.id} requires a userId: send the requesting officer's id in the envelope`, entry, grant, plan }
  }

  const required = entry.requiredQuery
  if (required.length > 0) {
    const query = request.query
    let absent: string[] | undefined
    for (let i = 0; i < required.length; i++) {
      const name = required[i] as string
      const value = query === undefined || !Object.hasOwn(query, name) ? undefined : query[name]
      if (value === undefined || value === null) (absent ??= []).push(name)
    }
    if (absent !== undefined) {
      return {
        allow: false,
        code: 'GOVEX_ERR_BAD_REQUEST',
        message: `${resourceId} requires query parameter${absent.length === 1 ? '' : 's'} ${absent.join(', ')}: add ${absent.length === 1 ? 'it' : 'them'} to the envelope's query`,
        entry, grant, plan,
        problems: absent.map(name => ({ code: 'required', path: '/query/' + name, message: 'is required by the resource' }))
      }
    }
  }

  return { allow: true, grant, fields, entry, plan, quota: chosen.quota }
}

/**
 * The denial when no grant listing the purpose is in force now. Validity comes
 * before purpose (PROTOCOL.md: NO_GRANT when "the grant is outside its
 * validity"): with no grant for (consumer, resource) in force, or with the grant
 * that lists the purpose out of its validity, the answer is NO_GRANT; only when
 * no grant at all lists the purpose is it PURPOSE_NOT_GRANTED.
 * Only denials come here, and `all` holds the few grants of one (consumer, resource).
 */
function purposeOrValidity (
  all: readonly IndexedGrant[], expiredForPurpose: IndexedGrant | undefined,
  request: AuthorizeRequest, entry: CatalogEntry, plan: PlanRef
): AuthorizeResult {
  const { consumer, resourceId, purpose, now } = request
  const inForce = all.filter(g => within(g, now))
  if (inForce.length === 0 || expiredForPurpose !== undefined) {
    const first = expiredForPurpose ?? all[0] as IndexedGrant
    const what = inForce.length === 0 ? '' : ` for purpose ${purpose}`
    return {
      allow: false,
      code: 'GOVEX_ERR_NO_GRANT',
      message: `${consumer} has no active grant for ${resourceId}${what} now: grant ${first.grant.id} is valid ${windowOf(first)}`,
      entry, grant: first.grant, plan
    }
  }
  const purposes = [...new Set(inForce.flatMap(g => g.grant.purposes))].join(', ')
  return {
    allow: false,
    code: 'GOVEX_ERR_PURPOSE_NOT_GRANTED',
    message: `${consumer}'s grants for ${resourceId} do not list purpose ${purpose}; they allow ${purposes}`,
    entry, grant: (inForce[0] as IndexedGrant).grant, plan
  }
}
