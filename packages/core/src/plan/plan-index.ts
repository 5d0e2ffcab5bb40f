// The active plan's grants indexed for authorize() (MODEL.md "Sharing plan"):
// consumer → resource → the grants for that pair, with each grant's purpose and
// field sets, validity (epoch ms) and quota precomputed, so a decision is a few
// Map lookups and Set checks, never a scan of the plan. Built once per
// activation and per catalog change.
//
// A plan may hold 200,000 grants, so the build is written for that: one small
// object per grant and per (consumer, resource), purpose lists, field lists and
// quotas shared between the grants that repeat them (found without building a
// key string per grant), and buildPlanIndexInSlices() to build it a slice at a
// time, yielding to the event loop in between, so exchanges under the previous
// index keep flowing while the new one is built.
import type { Catalog } from '../catalog.js'
import type { PlanRef } from '../schemas/envelope.js'
import type { Grant, PlanState } from '../schemas/plan.js'
import { Slices } from '../turns.js'
import type { QuotaLimits } from '../store/types.js'

export interface IndexedGrant {
  readonly grant: Grant
  /** the grant's purposes. Shared between grants listing the same purposes. */
  readonly purposes: ReadonlySet<string>
  /** the grant's fields, for membership checks. Shared. */
  readonly fieldSet: ReadonlySet<string>
  /** the grant's fields in document order: what a request without `fields` gets. Shared: do not mutate. */
  readonly fields: string[]
  /** epoch ms, inclusive: the grant's own validity within the plan's */
  readonly validFrom: number
  readonly validUntil: number
  readonly requireCaseRef: boolean
  readonly requireUserId: boolean
  /** null when unlimited. Shared between grants with the same limits. */
  readonly quota: QuotaLimits | null
}

export interface ResourceGrants {
  /** every grant for this (consumer, resource), in plan order */
  readonly any: readonly IndexedGrant[]
  /**
   * purpose → the grants listing it, in plan order (plan rules make that one
   * grant); only when `any` holds more than CROWDED grants. Otherwise null, and
   * the few grants of `any` are checked one by one (`purposes.has`).
   */
  readonly byPurpose: ReadonlyMap<string, readonly IndexedGrant[]> | null
}

/** Above this many grants for one (consumer, resource), a purpose map replaces checking each grant. */
export const CROWDED = 4

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

/** The grants listing `purpose` among one (consumer, resource)'s, in plan order (authorize() and tests). */
export function grantsForPurpose (grants: ResourceGrants, purpose: string): readonly IndexedGrant[] {
  if (grants.byPurpose !== null) return grants.byPurpose.get(purpose) ?? NO_INDEXED
  return grants.any.filter(g => g.purposes.has(purpose))
}

const NO_GRANTS: readonly Grant[] = Object.freeze([])
const NO_INDEXED: readonly IndexedGrant[] = Object.freeze([])

export function epochMs (instant: string | undefined, fallback: number): number {
  // An unparsable instant gives NaN, and every comparison with NaN is false: the window closes.
  return instant === undefined ? fallback : Date.parse(instant)
}

/** A string list and its Set, shared by every grant that lists the same strings in the same order. */
interface SharedList {
  readonly set: ReadonlySet<string>
  readonly list: string[]
}

/**
 * Shares one frozen list and one Set per distinct string list: plans grant the
 * same fields and purposes to many consumers, and sharing them keeps a large
 * index small and its hot part in the CPU cache. Candidates are found by the
 * list's first string and compared element by element: no key string is built
 * per grant.
 */
class ListInterner {
  readonly #byFirst = new Map<string, SharedList[]>()
  #last: SharedList | null = null

  get (strings: readonly string[]): SharedList {
    const last = this.#last
    if (last !== null && sameList(last.list, strings)) return last
    const first = strings.length === 0 ? '' : strings[0] as string
    let candidates = this.#byFirst.get(first)
    if (candidates === undefined) this.#byFirst.set(first, candidates = [])
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i] as SharedList
      if (sameList(candidate.list, strings)) return (this.#last = candidate)
    }
    const list = Object.freeze(strings.slice()) as string[]
    const shared: SharedList = Object.freeze({ set: new Set(list), list })
    candidates.push(shared)
    return (this.#last = shared)
  }
}

function sameList (a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** One frozen QuotaLimits per distinct (perMinute, perDay). */
class QuotaInterner {
  readonly #byLimits = new Map<number | undefined, Map<number | undefined, QuotaLimits>>()
  #last: QuotaLimits | null = null

  get (grant: Grant): QuotaLimits | null {
    const quota = grant.quota
    if (quota === undefined) return null
    const { perMinute, perDay } = quota
    if (perMinute === undefined && perDay === undefined) return null
    const last = this.#last
    if (last !== null && last.perMinute === perMinute && last.perDay === perDay) return last
    let byDay = this.#byLimits.get(perMinute)
    if (byDay === undefined) this.#byLimits.set(perMinute, byDay = new Map())
    let found = byDay.get(perDay)
    if (found === undefined) byDay.set(perDay, found = Object.freeze({ perMinute, perDay }))
    return (this.#last = found)
  }
}

/**
 * Turns grant documents into what authorize() reads: each grant's validity
 * kept within the plan's window (epoch ms), its purposes, fields and quota
 * shared with the grants that repeat them. The plan index builds with one;
 * so does core's resourceGrantsOf() for the SDK's dry run, so both read a
 * grant the same way.
 */
export class GrantIndexer {
  readonly #fields = new ListInterner()
  readonly #purposes = new ListInterner()
  readonly #quotas = new QuotaInterner()
  readonly #planFrom: number
  readonly #planUntil: number

  /** the plan's window in epoch ms (NaN closes it) */
  constructor (planFrom: number, planUntil: number) {
    this.#planFrom = planFrom
    this.#planUntil = planUntil
  }

  index (grant: Grant): IndexedGrant {
    const planFrom = this.#planFrom
    const planUntil = this.#planUntil
    const fields = this.#fields.get(grant.fields)
    const conditions = grant.conditions
    return Object.freeze({
      grant,
      purposes: this.#purposes.get(grant.purposes).set,
      fieldSet: fields.set,
      fields: fields.list,
      validFrom: Math.max(epochMs(grant.validFrom, planFrom), planFrom),
      validUntil: Math.min(epochMs(grant.validUntil, planUntil), planUntil),
      requireCaseRef: conditions?.requireCaseRef === true,
      requireUserId: conditions?.requireUserId === true,
      quota: this.#quotas.get(grant)
    })
  }
}

interface Slot {
  any: IndexedGrant[]
  byPurpose: Map<string, IndexedGrant[]> | null
}

/**
 * Builds the index a range of grants at a time (add), then seals it (finish).
 * Both builders below use it; nothing of it is visible until finish().
 */
class IndexBuilder {
  readonly #state: PlanState
  readonly #catalog: Catalog
  readonly #byConsumer = new Map<string, Map<string, Slot>>()
  readonly #grantsByConsumer = new Map<string, Grant[]>()
  readonly #skipped: SkippedGrant[] = []
  readonly #indexer: GrantIndexer
  readonly #crowded: Slot[] = []
  #size = 0
  // Plans usually list a consumer's grants together: the consumer's maps are looked up once per run.
  #consumer: string | null = null
  #mine: Grant[] = []
  #resources = new Map<string, Slot>()

  constructor (state: PlanState, catalog: Catalog) {
    this.#state = state
    this.#catalog = catalog
    this.#indexer = new GrantIndexer(epochMs(state.validFrom, NaN), epochMs(state.validUntil, NaN))
  }

  /** Indexes grants [from, to) of the plan. */
  add (from: number, to: number): void {
    const grants = this.#state.grants
    const catalog = this.#catalog
    for (let i = from; i < to; i++) {
      const grant = grants[i] as Grant
      if (grant.consumer !== this.#consumer) this.#switchConsumer(grant.consumer)
      this.#mine.push(grant)

      // Plan rules hold at validation time; the catalog may have changed since.
      const entry = catalog.get(grant.resource)
      if (entry === undefined) {
        this.#skipped.push({ grant, reason: `resource ${grant.resource} is no longer in the catalog` })
        continue
      }
      if (entry.resource.sharing.type === 'none') {
        this.#skipped.push({ grant, reason: `resource ${grant.resource} is now listed with sharing "none"` })
        continue
      }

      const indexed = this.#indexer.index(grant)
      const slot = this.#resources.get(grant.resource)
      if (slot === undefined) {
        this.#resources.set(grant.resource, { any: [indexed], byPurpose: null })
      } else {
        slot.any.push(indexed)
        if (slot.any.length === CROWDED + 1) this.#crowded.push(slot)
      }
      this.#size++
    }
  }

  #switchConsumer (consumer: string): void {
    this.#consumer = consumer
    let mine = this.#grantsByConsumer.get(consumer)
    if (mine === undefined) this.#grantsByConsumer.set(consumer, mine = [])
    this.#mine = mine
    let resources = this.#byConsumer.get(consumer)
    if (resources === undefined) this.#byConsumer.set(consumer, resources = new Map())
    this.#resources = resources
  }

  finish (): PlanIndex {
    for (const slot of this.#crowded) {
      const byPurpose = new Map<string, IndexedGrant[]>()
      for (const indexed of slot.any) {
        for (const purpose of indexed.purposes) {
          const list = byPurpose.get(purpose)
          if (list === undefined) byPurpose.set(purpose, [indexed])
          else list.push(indexed)
        }
      }
      slot.byPurpose = byPurpose
    }
    for (const list of this.#grantsByConsumer.values()) Object.freeze(list)
    return new BuiltPlanIndex(this.#state, this.#size, Object.freeze(this.#skipped), this.#byConsumer, this.#grantsByConsumer)
  }
}

class BuiltPlanIndex implements PlanIndex {
  readonly plan: PlanRef
  readonly state: PlanState
  readonly size: number
  readonly skipped: readonly SkippedGrant[]
  readonly #byConsumer: ReadonlyMap<string, ReadonlyMap<string, ResourceGrants>>
  readonly #grantsByConsumer: ReadonlyMap<string, readonly Grant[]>

  constructor (state: PlanState, size: number, skipped: readonly SkippedGrant[],
    byConsumer: ReadonlyMap<string, ReadonlyMap<string, ResourceGrants>>, grantsByConsumer: ReadonlyMap<string, readonly Grant[]>) {
    this.plan = Object.freeze({ id: state.id, version: state.version })
    this.state = state
    this.size = size
    this.skipped = skipped
    this.#byConsumer = byConsumer
    this.#grantsByConsumer = grantsByConsumer
    Object.freeze(this)
  }

  lookup (consumer: string, resource: string): ResourceGrants | undefined {
    return this.#byConsumer.get(consumer)?.get(resource)
  }

  grantsFor (consumer: string): readonly Grant[] {
    return this.#grantsByConsumer.get(consumer) ?? NO_GRANTS
  }
}

/** The index of `state`'s grants over `catalog`, built in one synchronous step. */
export function buildPlanIndex (state: PlanState, catalog: Catalog): PlanIndex {
  const builder = new IndexBuilder(state, catalog)
  builder.add(0, state.grants.length)
  return builder.finish()
}

export interface SliceOptions {
  /** work this long (ms) before yielding to the event loop; default 10 */
  sliceMs?: number | undefined
  /** how to yield; default setImmediate, which lets pending I/O run first */
  yieldTo?: (() => Promise<void>) | undefined
  /** grants indexed between two looks at the clock; default 1024 (tests use small ones to cross slice edges) */
  batch?: number | undefined
}

/** grants indexed between two looks at the clock */
const BATCH = 1024


/**
 * The same index as buildPlanIndex(), built a slice of about `sliceMs` at a
 * time with a turn of the event loop between slices, so requests keep being
 * served (under whatever index the caller keeps until this one resolves)
 * instead of waiting for the whole build. `state` and `catalog` are immutable,
 * so the slices see one consistent input.
 */
export async function buildPlanIndexInSlices (state: PlanState, catalog: Catalog, options: SliceOptions = {}): Promise<PlanIndex> {
  const slices = new Slices(options.sliceMs, options.yieldTo)
  const builder = new IndexBuilder(state, catalog)
  const total = state.grants.length
  const batch = options.batch ?? BATCH
  for (let from = 0; from < total; from += batch) {
    builder.add(from, Math.min(total, from + batch))
    if (from + batch < total && slices.due) await slices.next()
  }
  return builder.finish()
}
