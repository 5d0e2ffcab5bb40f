// MODEL.md "Sharing plan" rules beyond the schema: validity periods, grants that
// name a shareable catalog resource and its items, agency consumers other than
// the provider, unique grant ids and one grant per (consumer, resource, purpose).
// Linear in the number of grants: a plan may hold 200,000 of them, so the loop
// builds no string per grant (paths and messages only for problems) and no Map
// for a (consumer, resource) that has one grant.
import type { Plan, Grant } from '../schemas/plan.js'
import type { Member } from '../schemas/member.js'
import type { Catalog, CatalogEntry } from '../catalog.js'
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

function validityProblems (grant: Grant, i: number, planFrom: number, planUntil: number, plan: Plan, problems: Problem[]): void {
  const from = grant.validFrom === undefined ? undefined : instantMs(grant.validFrom)
  const until = grant.validUntil === undefined ? undefined : instantMs(grant.validUntil)
  if (from !== undefined && until !== undefined && from >= until) {
    problems.push({ code: 'invalid-validity', path: `/grants/${i}/validUntil`, message: `validUntil (${grant.validUntil as string}) must be later than validFrom (${grant.validFrom as string})` })
  }
  // Against a plan whose own period is inverted, "within" means nothing: that problem is reported once, on the plan.
  if (planFrom >= planUntil) return
  if (from !== undefined && (from < planFrom || from >= planUntil)) {
    problems.push({ code: 'grant-outside-plan-validity', path: `/grants/${i}/validFrom`, message: `validFrom must fall within the plan's validity (${plan.validFrom} to ${plan.validUntil}); move it or omit it to use the plan's` })
  }
  if (until !== undefined && (until > planUntil || until <= planFrom)) {
    problems.push({ code: 'grant-outside-plan-validity', path: `/grants/${i}/validUntil`, message: `validUntil must fall within the plan's validity (${plan.validFrom} to ${plan.validUntil}); move it or omit it to use the plan's` })
  }
}

function itemList (names: ReadonlySet<string>): string {
  const shown = [...names].slice(0, 20).join(', ')
  return names.size > 20 ? shown + ', ...' : shown
}

function catalogProblems (grant: Grant, i: number, entry: CatalogEntry | undefined, problems: Problem[]): void {
  if (entry === undefined) {
    problems.push({ code: 'unknown-resource', path: `/grants/${i}/resource`, message: `resource "${grant.resource}" is not in the catalog; check the id or have its agency list it in its directory` })
    return
  }
  if (entry.resource.sharing.type === 'none') {
    problems.push({ code: 'resource-not-shareable', path: `/grants/${i}/resource`, message: `resource "${grant.resource}" has sharing "none" and cannot be granted; remove the grant or have its agency change the sharing type` })
  }
  const itemNames = entry.itemNames
  for (let k = 0; k < grant.fields.length; k++) {
    const field = grant.fields[k] as string
    if (!itemNames.has(field)) {
      problems.push({ code: 'unknown-field', path: `/grants/${i}/fields/${k}`, message: `"${field}" is not a data item of ${grant.resource}; use one of: ${itemList(itemNames)}` })
    }
  }
}

/** Why `consumer` cannot be granted data (not a member, not an agency), or null; remembered for the last consumer asked about. */
class ConsumerCheck {
  readonly #members: ReadonlyMap<string, Member>
  #consumer: string | null = null
  #problem: string | null = null

  constructor (members: ReadonlyMap<string, Member>) {
    this.#members = members
  }

  problem (consumer: string): string | null {
    if (consumer === this.#consumer) return this.#problem
    const member = this.#members.get(consumer)
    this.#consumer = consumer
    this.#problem = member === undefined
      ? `consumer "${consumer}" is not a registered member; register it with role "agency" or correct the id`
      : member.roles.includes('agency') ? null : `consumer "${consumer}" does not have role "agency"; only agencies may be granted data`
    return this.#problem
  }
}

function consumerProblems (grant: Grant, i: number, entry: CatalogEntry | undefined, members: ConsumerCheck | null, problems: Problem[]): void {
  const problem = members?.problem(grant.consumer) ?? null
  if (problem !== null) problems.push({ code: 'consumer-not-agency', path: `/grants/${i}/consumer`, message: problem })
  // The provider is the agency whose directory lists the resource, else the id's prefix.
  const provider = entry?.provider ?? grant.resource.slice(0, grant.resource.indexOf(':'))
  if (provider === grant.consumer) {
    problems.push({ code: 'consumer-is-provider', path: `/grants/${i}/consumer`, message: `"${grant.consumer}" provides ${grant.resource} itself; an agency needs no grant for its own data, remove the grant` })
  }
}

/** Purposes a grant lists up to this many are checked against each other pairwise, without a Map. */
const FEW_PURPOSES = 8

interface Pair {
  /** the first grant for this (consumer, resource) */
  readonly first: Grant
  /** purpose → id of the first grant covering it; made when a second grant for the pair comes */
  covered: Map<string, string> | null
}

/**
 * One grant per (consumer, resource, purpose): consumer → resource → the
 * purposes covered. Most pairs have one grant, whose purposes need no Map and
 * no key string; plans list a consumer's grants together, so the consumer's
 * map is looked up once per run of them.
 */
class Coverage {
  readonly #byConsumer = new Map<string, Map<string, Pair>>()
  #consumer: string | null = null
  #pairs = new Map<string, Pair>()

  check (grant: Grant, i: number, problems: Problem[]): void {
    if (grant.consumer !== this.#consumer) {
      this.#consumer = grant.consumer
      let pairs = this.#byConsumer.get(grant.consumer)
      if (pairs === undefined) this.#byConsumer.set(grant.consumer, pairs = new Map())
      this.#pairs = pairs
    }
    const pair = this.#pairs.get(grant.resource)
    if (pair === undefined) {
      const fresh: Pair = { first: grant, covered: null }
      this.#pairs.set(grant.resource, fresh)
      if (!distinctFew(grant.purposes)) cover(grant, i, fresh.covered = new Map(), problems)
      return
    }
    if (pair.covered === null) {
      pair.covered = new Map()
      for (const purpose of pair.first.purposes) pair.covered.set(purpose, pair.first.id)
    }
    cover(grant, i, pair.covered, problems)
  }
}

/** True when `purposes` are few and all different (the schema's uniqueItems makes them different). */
function distinctFew (purposes: readonly string[]): boolean {
  if (purposes.length > FEW_PURPOSES) return false
  for (let a = 1; a < purposes.length; a++) {
    for (let b = 0; b < a; b++) if (purposes[a] === purposes[b]) return false
  }
  return true
}

function cover (grant: Grant, i: number, covered: Map<string, string>, problems: Problem[]): void {
  for (let k = 0; k < grant.purposes.length; k++) {
    const purpose = grant.purposes[k] as string
    const first = covered.get(purpose)
    if (first !== undefined) {
      problems.push({ code: 'duplicate-grant', path: `/grants/${i}/purposes/${k}`, message: `grant "${first}" already gives ${grant.consumer} access to ${grant.resource} for "${purpose}"; merge the two grants or drop the purpose from one` })
    } else {
      covered.set(purpose, grant.id)
    }
  }
}

export function planRules (plan: Plan, context: PlanContext): Problem[] {
  const problems: Problem[] = []
  const planFrom = instantMs(plan.validFrom)
  const planUntil = instantMs(plan.validUntil)
  if (planFrom >= planUntil) {
    problems.push({ code: 'invalid-validity', path: '/validUntil', message: `validUntil (${plan.validUntil}) must be later than validFrom (${plan.validFrom})` })
  }
  const { catalog } = context
  const members = context.members === null ? null : new ConsumerCheck(context.members)
  const grantIds = new Set<string>()
  const coverage = new Coverage()
  // Paths are built from indexes and fixed names only, so they need no JSON Pointer escaping;
  // they are built only for problems.
  for (let i = 0; i < plan.grants.length; i++) {
    const grant = plan.grants[i] as Grant
    const known = grantIds.size
    grantIds.add(grant.id)
    if (grantIds.size === known) {
      problems.push({ code: 'duplicate-grant-id', path: `/grants/${i}/id`, message: `grant id "${grant.id}" is used twice in this plan; give each grant its own id` })
    }
    if (grant.validFrom !== undefined || grant.validUntil !== undefined) validityProblems(grant, i, planFrom, planUntil, plan, problems)
    const entry = catalog === null ? undefined : catalog.get(grant.resource)
    if (catalog !== null) catalogProblems(grant, i, entry, problems)
    consumerProblems(grant, i, entry, members, problems)
    coverage.check(grant, i, problems)
  }
  return problems
}
