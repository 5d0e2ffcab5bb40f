// Which grant an exchange uses, or why none does (PROTOCOL.md "Exchange"): among
// the grants for one (consumer, resource), the first listing the purpose that is
// within its validity (403 NO_GRANT) → purpose (403 PURPOSE_NOT_GRANTED) →
// fields (403 FIELDS_NOT_GRANTED) → conditions (403 CONDITION_UNMET); the first
// check that fails answers. Written once: authorize() runs it on the plan index,
// the SDK's client.can() dry run on the caller's GET /v1/grants/mine, so the two
// cannot answer differently. Hot path: an allowed choice returns the indexed
// grant itself and allocates nothing; messages are built only for refusals.
import type { Grant } from './schemas/plan.js'
import { GrantIndexer, epochMs, type IndexedGrant, type ResourceGrants } from './plan/plan-index.js'

/** The refusals a choice among a (consumer, resource)'s grants can give. */
export type GrantRefusalCode =
  | 'GOVEX_ERR_NO_GRANT'
  | 'GOVEX_ERR_PURPOSE_NOT_GRANTED'
  | 'GOVEX_ERR_FIELDS_NOT_GRANTED'
  | 'GOVEX_ERR_CONDITION_UNMET'

/** What of an exchange request the choice reads (an AuthorizeRequest is one). */
export interface GrantRequest {
  consumer: string
  resourceId: string
  purpose: string
  /** default: every field the grant allows */
  fields?: readonly string[] | undefined
  userId?: string | undefined
  caseRef?: string | undefined
  /** epoch ms */
  now: number
}

export interface GrantRefusal {
  readonly refused: true
  readonly code: GrantRefusalCode
  readonly message: string
  /** the grant the refusal is about, when there is one */
  readonly grant?: Grant | undefined
}

/** Whether chooseGrant() refused. */
export function isGrantRefusal (choice: IndexedGrant | GrantRefusal): choice is GrantRefusal {
  return (choice as Partial<GrantRefusal>).refused === true
}

/**
 * The grant an exchange with `request` uses among `grants` (one consumer's for
 * one resource, in plan order), or the refusal PROTOCOL.md gives. An allowed
 * exchange's fields are `request.fields` when given, otherwise the grant's `fields`.
 */
export function chooseGrant (grants: ResourceGrants | undefined, request: GrantRequest): IndexedGrant | GrantRefusal {
  const { purpose, now } = request
  if (grants === undefined || grants.any.length === 0) {
    return refusal('GOVEX_ERR_NO_GRANT', `${request.consumer} has no active grant for ${request.resourceId}`)
  }

  // The first grant listing the purpose that is in force now, in plan order; and the
  // first listing it at all, which a refusal names.
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
  if (chosen === undefined) return purposeOrValidity(grants.any, listed, request)

  const requested = request.fields
  if (requested !== undefined) {
    let outside: string[] | undefined
    for (let i = 0; i < requested.length; i++) {
      const field = requested[i] as string
      if (!chosen.fieldSet.has(field)) (outside ??= []).push(field)
    }
    if (outside !== undefined) {
      return refusal('GOVEX_ERR_FIELDS_NOT_GRANTED',
        `grant ${chosen.grant.id} does not cover field${outside.length === 1 ? '' : 's'} ${outside.join(', ')} of ${request.resourceId}; it allows ${chosen.fields.join(', ')}`,
        chosen.grant)
    }
  }

  if (chosen.requireCaseRef && missing(request.caseRef)) {
    return refusal('GOVEX_ERR_CONDITION_UNMET', `grant ${chosen.grant.id} requires a caseRef: send the case reference in the envelope`, chosen.grant)
  }
  if (chosen.requireUserId && missing(request.userId)) {
    return refusal('GOVEX_ERR_CONDITION_UNMET', `grant ${chosen.grant.id} requires a userId: send the requesting officer's id in the envelope`, chosen.grant)
  }
  return chosen
}

/**
 * The refusal when no grant listing the purpose is in force now. Validity comes
 * before purpose (PROTOCOL.md: NO_GRANT when "the grant is outside its
 * validity"): with no grant for (consumer, resource) in force, or with the grant
 * that lists the purpose out of its validity, the answer is NO_GRANT; only when
 * no grant at all lists the purpose is it PURPOSE_NOT_GRANTED.
 * Only refusals come here, and `all` holds the few grants of one (consumer, resource).
 */
function purposeOrValidity (all: readonly IndexedGrant[], expiredForPurpose: IndexedGrant | undefined, request: GrantRequest): GrantRefusal {
  const { consumer, resourceId, purpose, now } = request
  const inForce = all.filter(g => within(g, now))
  if (inForce.length === 0 || expiredForPurpose !== undefined) {
    const first = expiredForPurpose ?? all[0] as IndexedGrant
    const what = inForce.length === 0 ? '' : ` for purpose ${purpose}`
    return refusal('GOVEX_ERR_NO_GRANT',
      `${consumer} has no active grant for ${resourceId}${what} now: grant ${first.grant.id} is valid ${windowOf(first)}`,
      first.grant)
  }
  const purposes = [...new Set(inForce.flatMap(g => g.grant.purposes))].join(', ')
  return refusal('GOVEX_ERR_PURPOSE_NOT_GRANTED',
    `${consumer}'s grants for ${resourceId} do not list purpose ${purpose}; they allow ${purposes}`,
    (inForce[0] as IndexedGrant).grant)
}

export interface GrantWindow {
  /** ISO 8601 instants; a grant without its own validity has this one */
  validFrom?: string | undefined
  validUntil?: string | undefined
}

/**
 * One (consumer, resource)'s grants, in plan order, as chooseGrant() reads them,
 * built from the grant documents themselves: what the SDK has from
 * GET /v1/grants/mine (whose grants carry their validity, the plan's when they
 * have none of their own). A grant's validity is kept within `plan`'s, as the
 * plan index does; an instant that does not parse closes the window.
 */
export function resourceGrantsOf (grants: readonly Grant[], plan: GrantWindow = {}): ResourceGrants {
  const indexer = new GrantIndexer(epochMs(plan.validFrom, -Infinity), epochMs(plan.validUntil, Infinity))
  return Object.freeze({ any: Object.freeze(grants.map(grant => indexer.index(grant))), byPurpose: null })
}

function refusal (code: GrantRefusalCode, message: string, grant?: Grant): GrantRefusal {
  return { refused: true, code, message, grant }
}

function within (grant: IndexedGrant, now: number): boolean {
  return now >= grant.validFrom && now <= grant.validUntil
}

function iso (ms: number): string {
  // ±Infinity: a window without that end (only grants built without a plan window)
  return Number.isFinite(ms) ? new Date(ms).toISOString() : Number.isNaN(ms) ? 'an invalid instant' : 'any time'
}

function windowOf (grant: IndexedGrant): string {
  return `from ${iso(grant.validFrom)} until ${iso(grant.validUntil)}`
}

function missing (value: string | undefined): boolean {
  return typeof value !== 'string' || value === ''
}
