// The active plan's grants indexed for authorize() (MODEL.md "Sharing plan"):
// consumer → resource → grants by purpose, with each grant's field set, validity
// (epoch ms) and quota precomputed, so a decision is a few Map lookups and Set
// checks, never a scan. Built once per activation and per catalog change.
import type { Catalog } from '../catalog.js'
import type { PlanRef } from '../schemas/envelope.js'
import type { Grant, PlanState } from '../schemas/plan.js'
import type { QuotaLimits } from '../store/types.js'

export interface IndexedGrant {
  readonly grant: Grant
  /** the grant's fields, for membership checks */
  readonly fieldSet: ReadonlySet<string>
  /** the grant's fields in document order: what a request without `fields` gets. Shared: do not mutate. */
  readonly fields: string[]
  /** epoch ms, inclusive: the grant's own validity within the plan's */
  readonly validFrom: number
  readonly validUntil: number
  readonly requireCaseRef: boolean
  readonly requireUserId: boolean
  /** null when unlimited */
  readonly quota: QuotaLimits | null
}

export interface ResourceGrants {
  /** purpose → grants listing it (plan rules make that one grant) */
  readonly byPurpose: ReadonlyMap<string, readonly IndexedGrant[]>
  /** every grant for this (consumer, resource), in plan order */
  readonly any: readonly IndexedGrant[]
}

export interface SkippedGrant {
  readonly grant: Grant
  readonly reason: string
}

export interface PlanIndex {
  readonly plan: PlanRef
  readonly state: PlanState
  /** grants indexed (those the catalog can serve) */
  readonly size: number
  /** grants the index left out because the current catalog cannot serve them (for the operator's log) */
  readonly skipped: readonly SkippedGrant[]
  /** the grants for (consumer, resource), or undefined when the plan has none */
  lookup (consumer: string, resource: string): ResourceGrants | undefined
  /** the consumer's grants in the plan, in plan order (GET /v1/grants/mine) */
  grantsFor (consumer: string): readonly Grant[]
}

const NO_GRANTS: readonly Grant[] = Object.freeze([])

function epochMs (instant: string | undefined, fallback: number): number {
  // An unparsable instant gives NaN, and every comparison with NaN is false: the window closes.
  return instant === undefined ? fallback : Date.parse(instant)
}

function quotaOf (grant: Grant): QuotaLimits | null {
  const quota = grant.quota
  if (quota === undefined || (quota.perMinute === undefined && quota.perDay === undefined)) return null
  return Object.freeze({ perMinute: quota.perMinute, perDay: quota.perDay })
}

interface FieldList {
  readonly set: ReadonlySet<string>
  readonly list: string[]
}

/**
 * One frozen list and Set per distinct field list: plans grant the same fields of a
 * resource to many consumers, and sharing them keeps a large index small and its
 * hot part in the CPU cache.
 */
function internFields (fields: readonly string[], interned: Map<string, FieldList>): FieldList {
  const key = JSON.stringify(fields)
  let found = interned.get(key)
  if (found === undefined) interned.set(key, found = { set: new Set(fields), list: Object.freeze([...fields]) as string[] })
  return found
}

function indexGrant (grant: Grant, planFrom: number, planUntil: number, interned: Map<string, FieldList>): IndexedGrant {
  const from = epochMs(grant.validFrom, planFrom)
  const until = epochMs(grant.validUntil, planUntil)
  const fields = internFields(grant.fields, interned)
  return Object.freeze({
    grant,
    fieldSet: fields.set,
    fields: fields.list,
    validFrom: Math.max(from, planFrom),
    validUntil: Math.min(until, planUntil),
    requireCaseRef: grant.conditions?.requireCaseRef === true,
    requireUserId: grant.conditions?.requireUserId === true,
    quota: quotaOf(grant)
  })
}

interface MutableResourceGrants {
  byPurpose: Map<string, IndexedGrant[]>
  any: IndexedGrant[]
}

export function buildPlanIndex (state: PlanState, catalog: Catalog): PlanIndex {
  const planFrom = epochMs(state.validFrom, NaN)
  const planUntil = epochMs(state.validUntil, NaN)
  const byConsumer = new Map<string, Map<string, MutableResourceGrants>>()
  const grantsByConsumer = new Map<string, Grant[]>()
  const skipped: SkippedGrant[] = []
  const interned = new Map<string, FieldList>()
  let size = 0

  for (const grant of state.grants) {
    const mine = grantsByConsumer.get(grant.consumer)
    if (mine === undefined) grantsByConsumer.set(grant.consumer, [grant])
    else mine.push(grant)

    // Plan rules hold at validation time; the catalog may have changed since.
    const entry = catalog.get(grant.resource)
    if (entry === undefined) {
      skipped.push({ grant, reason: `resource ${grant.resource} is no longer in the catalog` })
      continue
    }
    if (entry.resource.sharing.type === 'none') {
      skipped.push({ grant, reason: `resource ${grant.resource} is now listed with sharing "none"` })
      continue
    }

    const indexed = indexGrant(grant, planFrom, planUntil, interned)
    let resources = byConsumer.get(grant.consumer)
    if (resources === undefined) byConsumer.set(grant.consumer, resources = new Map())
    let slot = resources.get(grant.resource)
    if (slot === undefined) resources.set(grant.resource, slot = { byPurpose: new Map(), any: [] })
    slot.any.push(indexed)
    for (const purpose of grant.purposes) {
      const list = slot.byPurpose.get(purpose)
      if (list === undefined) slot.byPurpose.set(purpose, [indexed])
      else list.push(indexed)
    }
    size++
  }
  for (const list of grantsByConsumer.values()) Object.freeze(list)

  const plan: PlanRef = Object.freeze({ id: state.id, version: state.version })
  return Object.freeze({
    plan,
    state,
    size,
    skipped: Object.freeze(skipped),
    lookup: (consumer: string, resource: string) => byConsumer.get(consumer)?.get(resource),
    grantsFor: (consumer: string) => grantsByConsumer.get(consumer) ?? NO_GRANTS
  })
}
