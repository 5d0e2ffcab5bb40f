// The in-memory view every request reads (ARCHITECTURE.md "Stores shared by
// several gateways"): members with their verification keys, the compiled
// catalog and the active plan's index, rebuilt from the stores on every change
// so authentication and authorize() never wait on a store. A state is
// immutable; a rebuild swaps in a new one. A change to plans only rebuilds the
// plan index, reusing the members and the catalog: compiling 10,000 resources
// and 1,000 members' keys again for an activation made it take seconds. The
// plan index is built in slices that yield to the event loop: exchanges go on
// under the previous state until the new one is complete and swapped in.
import type { KeyObject } from 'node:crypto'
import { buildPlanIndexInSlices, compileCatalog, publicKeyFromJwk, publicKeyPem } from '@govex/core'
import type { Catalog, DisclosureCatalog, Member, PlanIndex, PlanState, Role, StoreChange, Stores } from '@govex/core'
import type { FastifyBaseLogger } from 'fastify'

export interface VerificationKey {
  readonly kid: string
  readonly key: KeyObject
  /** SPKI PEM, for @fastify/jwt's verifier cache (keyed by string) */
  readonly pem: string
}

export interface RuntimeMember {
  readonly member: Member
  readonly roles: ReadonlySet<Role>
  readonly keys: ReadonlyMap<string, VerificationKey>
  /** the key used when a token names no kid: set only when the member has exactly one */
  readonly onlyKey: VerificationKey | undefined
}

export interface RuntimeState {
  /** grows with every rebuild: caches keyed on a state compare it */
  readonly generation: number
  readonly members: ReadonlyMap<string, RuntimeMember>
  /** the member documents, for plan validation */
  readonly memberDocs: ReadonlyMap<string, Member>
  readonly catalog: Catalog
  /** the active plan's index, null when no plan is active (or it cannot be indexed) */
  readonly plan: PlanIndex | null
  readonly disclosures: ReadonlyMap<string, DisclosureCatalog>
}

const EMPTY: RuntimeState = Object.freeze({
  generation: 0,
  members: new Map(),
  memberDocs: new Map(),
  catalog: compileCatalog([]),
  plan: null,
  disclosures: new Map()
})

function runtimeMember (member: Member): RuntimeMember {
  const keys = new Map<string, VerificationKey>()
  for (const jwk of member.keys) keys.set(jwk.kid, Object.freeze({ kid: jwk.kid, key: publicKeyFromJwk(jwk), pem: publicKeyPem(jwk) }))
  return Object.freeze({
    member,
    roles: new Set(member.roles),
    keys,
    onlyKey: keys.size === 1 ? keys.values().next().value : undefined
  })
}

export interface RuntimeOptions {
  stores: Stores
  log: FastifyBaseLogger
  /** wait this long after a change before rebuilding, so a burst costs one rebuild */
  debounceMs?: number
  /** after a failed rebuild, try again this much later */
  retryMs?: number
  /** build the plan index this many ms at a time between turns of the event loop (default 10) */
  indexSliceMs?: number
}

/** What a rebuild reads again: only the active plan, or everything. */
export type RebuildScope = 'plan' | 'all'

function wider (a: RebuildScope | null, b: RebuildScope | null): RebuildScope | null {
  return a === 'all' || b === 'all' ? 'all' : a ?? b
}

export class Runtime {
  #state: RuntimeState = EMPTY
  #loaded = false
  #generation = 0
  #running: Promise<void> | null = null
  /** what the rebuild after the running one must cover (refresh() calls that overlapped it) */
  #again: RebuildScope | null = null
  /** changes seen by the watcher and not yet covered by a rebuild */
  #pending: RebuildScope | null = null
  #timer: NodeJS.Timeout | null = null
  #unsubscribe: (() => void) | null = null
  #closed = false
  /** start() has not succeeded yet: store changes wait for it instead of loading a state before the bootstrap */
  #starting = false
  /** `reload`s the stores asked for (they reconnected and may have missed changes), and how many a full rebuild has covered */
  #reloadsAsked = 0
  #reloadsDone = 0
  readonly #stores: Stores
  readonly #log: FastifyBaseLogger
  readonly #debounceMs: number
  readonly #retryMs: number
  readonly #indexSliceMs: number | undefined
  /** called after every successful rebuild */
  onRebuild: ((state: RuntimeState) => void) | null = null
  /**
   * called once when a start that waited for the stores fails for another
   * reason once they answer (a bad bootstrap file): retrying cannot mend it
   */
  onFatal: ((err: unknown) => void) | null = null

  constructor (options: RuntimeOptions) {
    this.#stores = options.stores
    this.#log = options.log
    this.#debounceMs = options.debounceMs ?? 5
    this.#retryMs = options.retryMs ?? 500
    this.#indexSliceMs = options.indexSliceMs
  }

  get state (): RuntimeState {
    return this.#state
  }

  /** true once a rebuild has succeeded: the gateway knows its members, catalog and plan */
  get loaded (): boolean {
    return this.#loaded
  }

  /**
   * false from a `reload` (the stores reconnected: changes made meanwhile
   * through other gateways were not heard) until a full rebuild started after
   * it succeeds: until then the state may miss changes older than the
   * protocol's 1 s, so exchanges are refused rather than decided on it.
   */
  get current (): boolean {
    return this.#reloadsDone === this.#reloadsAsked
  }

  /** Starts following store changes; every change is live within debounceMs plus a rebuild. */
  watch (): void {
    if (this.#unsubscribe !== null) return
    this.#unsubscribe = this.#stores.subscribe((change: StoreChange) => {
      this.#log.debug({ change }, 'store change')
      if (change.kind === 'reload') this.#reloadsAsked++
      this.#pending = wider(this.#pending, change.kind === 'plan' ? 'plan' : 'all')
      if (!this.#starting) this.schedule(this.#debounceMs)
    })
  }

  /**
   * Runs `prepare` (the bootstrap), then the first full load. When the stores
   * are unavailable (GOVEX_ERR_UNAVAILABLE: Redis down at start) it resolves
   * anyway and keeps trying every retryMs in the background, so the gateway
   * starts, answers readyz and exchanges 503, and becomes ready by itself once
   * Redis answers. Any other failure (a bad bootstrap file) rejects.
   */
  async start (prepare: () => Promise<unknown>): Promise<void> {
    this.#starting = true
    const attempt = async (): Promise<void> => {
      await prepare()
      await this.refresh()
      this.#starting = false
      // changes seen meanwhile that the load may not have covered
      if (this.#pending !== null) this.schedule(this.#debounceMs)
    }
    try {
      await attempt()
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'GOVEX_ERR_UNAVAILABLE') {
        this.#starting = false
        throw err
      }
      this.#log.error({ err }, 'the stores do not answer: starting anyway; readyz and exchanges answer 503 until they do')
      this.#retryStart(attempt)
    }
  }

  #retryStart (attempt: () => Promise<void>): void {
    if (this.#closed) return
    setTimeout(() => {
      if (this.#closed) return
      attempt().then(() => { this.#log.info('the stores answer: members, catalog and plan loaded') }, (err: unknown) => {
        if ((err as { code?: unknown }).code === 'GOVEX_ERR_UNAVAILABLE') {
          this.#retryStart(attempt)
          return
        }
        this.#starting = false
        this.#log.fatal({ err }, 'the stores answer, but the bootstrap failed: fix it and start again (the gateway stays unready)')
        this.onFatal?.(err)
      })
    }, this.#retryMs).unref()
  }

  schedule (delayMs: number): void {
    if (this.#closed || this.#timer !== null) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      // An explicit refresh() may already have covered the changes.
      if (this.#pending !== null) this.refresh(this.#pending).catch(() => {})
    }, delayMs)
  }

  /**
   * Rebuilds from the stores and resolves once the new state is in place. Calls
   * that overlap a rebuild share one more rebuild after it, so a caller that
   * just wrote to a store always sees its write. `scope` 'plan' is for a caller
   * that changed only plans. A rebuild also covers every change the watcher saw
   * before it started: a lifecycle step that refreshes after its write does not
   * cost a second rebuild when the store's notice of that write comes in.
   */
  async refresh (scope: RebuildScope = 'all'): Promise<void> {
    if (this.#running !== null) {
      this.#again = wider(this.#again, scope)
      while (this.#running !== null) await this.#running
      return
    }
    this.#running = this.#loop(scope)
    try {
      await this.#running
    } finally {
      this.#running = null
    }
  }

  async #loop (first: RebuildScope): Promise<void> {
    let failure: unknown = null
    let scope: RebuildScope | null = first
    while (scope !== null) {
      this.#again = null
      const covered = wider(scope, this.#pending) as RebuildScope
      this.#pending = null
      try {
        await this.#rebuild(covered)
        failure = null
      } catch (err) {
        failure = err
        this.#pending = wider(this.#pending, covered)
      }
      scope = this.#closed ? null : this.#again
    }
    if (failure !== null) {
      this.#log.error({ err: failure }, this.current
        ? 'could not rebuild members, catalog and plan from the stores; keeping the previous state and retrying'
        : 'could not reload members, catalog and plan after the shared store came back; every /v1 call and readyz answer 503 until a reload succeeds; retrying')
      this.schedule(this.#retryMs)
      throw failure
    }
  }

  async #rebuild (scope: RebuildScope): Promise<void> {
    if (scope === 'plan' && this.#loaded) {
      await this.#rebuildPlan()
      return
    }
    const stores = this.#stores
    const reloads = this.#reloadsAsked
    const [members, directories, active, disclosures] = await Promise.all([
      stores.members.list(),
      stores.directories.list(),
      stores.plans.getActive(),
      stores.disclosures.list()
    ])
    const memberMap = new Map<string, RuntimeMember>()
    const memberDocs = new Map<string, Member>()
    for (const member of members) {
      memberDocs.set(member.id, member)
      try {
        memberMap.set(member.id, runtimeMember(member))
      } catch (err) {
        this.#log.error({ err, member: member.id }, 'a member has an unusable key; it cannot authenticate until it is fixed')
      }
    }
    const catalog = compileCatalog(directories)
    const plan = await this.#index(active, catalog)
    const disclosureMap = new Map<string, DisclosureCatalog>()
    for (const d of [...disclosures].sort((a, b) => a.agency < b.agency ? -1 : a.agency > b.agency ? 1 : 0)) disclosureMap.set(d.agency, d)
    this.#state = Object.freeze({ generation: ++this.#generation, members: memberMap, memberDocs, catalog, plan, disclosures: disclosureMap })
    this.#loaded = true
    this.#reloadsDone = reloads
    this.onRebuild?.(this.#state)
  }

  async #rebuildPlan (): Promise<void> {
    const active = await this.#stores.plans.getActive()
    const current = this.#state
    // Stores that keep states (memory, file) hand out the same object while it is unchanged.
    if (active === current.plan?.state || (active === undefined && current.plan === null)) return
    const plan = await this.#index(active, current.catalog)
    // Rebuilds never overlap (refresh() runs one at a time), so nothing replaced `current` meanwhile.
    this.#state = Object.freeze({ ...current, generation: ++this.#generation, plan })
    this.onRebuild?.(this.#state)
  }

  async #index (active: PlanState | undefined, catalog: Catalog): Promise<PlanIndex | null> {
    if (active === undefined) return null
    try {
      const index = await buildPlanIndexInSlices(active, catalog, { sliceMs: this.#indexSliceMs })
      for (const skipped of index.skipped) {
        this.#log.warn({ plan: index.plan, grant: skipped.grant.id }, `grant left out of the active plan: ${skipped.reason}`)
      }
      return index
    } catch (err) {
      // Fail closed: with no index every exchange is refused, never wrongly allowed.
      this.#log.error({ err, plan: { id: active.id, version: active.version } }, 'the active plan cannot be indexed; exchanges are refused until it is fixed')
      return null
    }
  }

  close (): void {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#unsubscribe?.()
    this.#unsubscribe = null
  }
}
