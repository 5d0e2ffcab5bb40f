// MODEL.md "Sharing plan" rules beyond the schema: validity periods, grants that
// name a shareable catalog resource and its items, agency consumers other than
// the provider, unique grant ids and one grant per (consumer, resource, purpose).
// Linear in the number of grants: a plan may hold 200,000 of them.
import type { Plan, Grant } from '../schemas/plan.js'
import type { Member } from '../schemas/member.js'
import type { Catalog } from '../catalog.js'
import type { Problem } from '../problems.js'

export interface PlanContext {
  /** the compiled catalog; null skips the rules that need it (linting a lone file) */
  catalog: Catalog | null
  /** the member registry by id; null skips the consumer rules */
  members: ReadonlyMap<string, Member> | null
}

/**
 * Milliseconds of an ISO 8601 date-time the schema accepted. Date.parse refuses
 * a leap second (`23:59:60`), which the format allows; it is the next second.
 */
export function instantMs (value: string): number {
  const ms = Date.parse(value)
  if (!Number.isNaN(ms)) return ms
  return Date.parse(value.replace(/(T\d\d:\d\d:)60/i, '$159')) + 1000
}

function validityProblems (grant: Grant, base: string, planFrom: number, planUntil: number, plan: Plan, problems: Problem[]): void {
  const from = grant.validFrom === undefined ? undefined : instantMs(grant.validFrom)
  const until = grant.validUntil === undefined ? undefined : instantMs(grant.validUntil)
  if (from !== undefined && until !== undefined && from >= until) {
    problems.push({ code: 'invalid-validity', path: base + '/validUntil', message: `validUntil (${grant.validUntil as string}) must be later than validFrom (${grant.validFrom as string})` })
  }
  // Against a plan whose own period is inverted, "within" means nothing: that problem is reported once, on the plan.
  if (planFrom >= planUntil) return
  if (from !== undefined && (from < planFrom || from >= planUntil)) {
    problems.push({ code: 'grant-outside-plan-validity', path: base + '/validFrom', message: `validFrom must fall within the plan's validity (${plan.validFrom} to ${plan.validUntil}); move it or omit it to use the plan's` })
  }
  if (until !== undefined && (until > planUntil || until <= planFrom)) {
    problems.push({ code: 'grant-outside-plan-validity', path: base + '/validUntil', message: `validUntil must fall within the plan's validity (${plan.validFrom} to ${plan.validUntil}); move it or omit it to use the plan's` })
  }
}

function itemList (names: ReadonlySet<string>): string {
  const shown = [...names].slice(0, 20).join(', ')
  return names.size > 20 ? shown + ', ...' : shown
}

function catalogProblems (grant: Grant, base: string, catalog: Catalog, problems: Problem[]): void {
  const entry = catalog.get(grant.resource)
  const resourcePath = base + '/resource'
  if (entry === undefined) {
    problems.push({ code: 'unknown-resource', path: resourcePath, message: `resource "${grant.resource}" is not in the catalog; check the id or have its agency list it in its directory` })
    return
  }
  if (entry.resource.sharing.type === 'none') {
    problems.push({ code: 'resource-not-shareable', path: resourcePath, message: `resource "${grant.resource}" has sharing "none" and cannot be granted; remove the grant or have its agency change the sharing type` })
  }
  for (let k = 0; k < grant.fields.length; k++) {
    const field = grant.fields[k] as string
    if (!entry.itemNames.has(field)) {
      problems.push({ code: 'unknown-field', path: `${base}/fields/${k}`, message: `"${field}" is not a data item of ${grant.resource}; use one of: ${itemList(entry.itemNames)}` })
    }
  }
}

function consumerProblems (grant: Grant, base: string, catalog: Catalog | null, members: ReadonlyMap<string, Member> | null, problems: Problem[]): void {
  const consumerPath = base + '/consumer'
  if (members !== null) {
    const member = members.get(grant.consumer)
    if (member === undefined) {
      problems.push({ code: 'consumer-not-agency', path: consumerPath, message: `consumer "${grant.consumer}" is not a registered member; register it with role "agency" or correct the id` })
    } else if (!member.roles.includes('agency')) {
      problems.push({ code: 'consumer-not-agency', path: consumerPath, message: `consumer "${grant.consumer}" does not have role "agency"; only agencies may be granted data` })
    }
  }
  // The provider is the agency whose directory lists the resource, else the id's prefix.
  const provider = catalog?.get(grant.resource)?.provider ?? grant.resource.slice(0, grant.resource.indexOf(':'))
  if (provider === grant.consumer) {
    problems.push({ code: 'consumer-is-provider', path: consumerPath, message: `"${grant.consumer}" provides ${grant.resource} itself; an agency needs no grant for its own data, remove the grant` })
  }
}

export function planRules (plan: Plan, context: PlanContext): Problem[] {
  const problems: Problem[] = []
  const planFrom = instantMs(plan.validFrom)
  const planUntil = instantMs(plan.validUntil)
  if (planFrom >= planUntil) {
    problems.push({ code: 'invalid-validity', path: '/validUntil', message: `validUntil (${plan.validUntil}) must be later than validFrom (${plan.validFrom})` })
  }
  const grantIds = new Set<string>()
  // (consumer, resource, purpose) -> the first grant that covers it
  const covered = new Map<string, string>()
  // Paths are built from indexes and fixed names only, so they need no JSON Pointer escaping.
  for (let i = 0; i < plan.grants.length; i++) {
    const grant = plan.grants[i] as Grant
    const base = '/grants/' + i
    if (grantIds.has(grant.id)) {
      problems.push({ code: 'duplicate-grant-id', path: base + '/id', message: `grant id "${grant.id}" is used twice in this plan; give each grant its own id` })
    }
    grantIds.add(grant.id)
    validityProblems(grant, base, planFrom, planUntil, plan, problems)
    if (context.catalog !== null) catalogProblems(grant, base, context.catalog, problems)
    consumerProblems(grant, base, context.catalog, context.members, problems)
    const prefix = grant.consumer + '\u0000' + grant.resource + '\u0000'
    for (let k = 0; k < grant.purposes.length; k++) {
      const purpose = grant.purposes[k] as string
      const key = prefix + purpose
      const first = covered.get(key)
      if (first !== undefined) {
        problems.push({ code: 'duplicate-grant', path: `${base}/purposes/${k}`, message: `grant "${first}" already gives ${grant.consumer} access to ${grant.resource} for "${purpose}"; merge the two grants or drop the purpose from one` })
      } else {
        covered.set(key, grant.id)
      }
    }
  }
  return problems
}
