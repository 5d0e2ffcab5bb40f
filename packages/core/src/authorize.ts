// The exchange decision (PROTOCOL.md "Exchange"): resource exists → zone →
// grant in the active plan within validity → purpose → fields → conditions
// (chooseGrant(), which the SDK's dry run shares) → required query parameters;
// the first check that fails answers. Hot path: a few Map lookups and Set
// checks on the plan index (the grants of one consumer and resource, by
// purpose); messages are built only for denials.
import type { Catalog, CatalogEntry } from './catalog.js'
import type { ErrorCode } from './codes.js'
import type { PlanRef } from './schemas/envelope.js'
import type { Grant } from './schemas/plan.js'
import type { QuotaLimits } from './store/types.js'
import type { PlanIndex } from './plan/plan-index.js'
import { chooseGrant, isGrantRefusal } from './choose-grant.js'
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

export function authorize (index: PlanIndex | null, catalog: Catalog, request: AuthorizeRequest): AuthorizeResult {
  const { consumer, resourceId } = request
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

  const chosen = chooseGrant(index.lookup(consumer, resourceId), request)
  if (isGrantRefusal(chosen)) {
    const { code, message, grant } = chosen
    return grant === undefined ? { allow: false, code, message, entry, plan } : { allow: false, code, message, entry, grant, plan }
  }
  const grant = chosen.grant
  // The caller's own list, unchanged: the result is read, never written.
  const fields = (request.fields ?? chosen.fields) as string[]

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
