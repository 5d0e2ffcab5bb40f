// Sharing plans and their lifecycle state, held in memory: create refuses an
// existing (id, version), update is a compare-and-set on the status, and an
// activation supersedes the previously active plan in the same step, so there
// is never a moment with two active plans (PROTOCOL.md "activate").
import { GovexError } from '../../codes.js'
import type { PlanState, PlanStatus } from '../../schemas/plan.js'
import type { PlanStore } from '../types.js'
import { compareKeys, type MemoryStoreOptions, type ChangeListener } from './documents.js'

interface Entry {
  status: PlanStatus
  text: string
}

/** One document to make durable: the state of (id, version). */
export interface PlanWrite {
  id: string
  version: number
  state: PlanState
  text: string
}

export class MemoryPlanStore implements PlanStore {
  readonly #plans = new Map<string, Map<number, Entry>>()
  readonly #onChange: ChangeListener | undefined
  #active: { id: string, version: number } | undefined
  #writes: Promise<unknown> = Promise.resolve()

  constructor (options: MemoryStoreOptions = {}) {
    this.#onChange = options.onChange
  }

  /**
   * Makes the writes durable, in order, before the in-memory view switches.
   * An activation writes the new active state first: a crash before the second
   * write leaves two active plans on disk, which the file store resolves at open
   * in favour of the later activation, the one that was meant to win.
   */
  protected async persist (_writes: readonly PlanWrite[]): Promise<void> {}

  /** loads a stored state without writing it or telling anyone (used at open) */
  protected restore (state: PlanState, text: string): void {
    this.#apply({ id: state.id, version: state.version, state, text })
  }

  async get (id: string, version?: number): Promise<PlanState | undefined> {
    const versions = this.#plans.get(id)
    if (versions === undefined) return undefined
    const entry = versions.get(version ?? latest(versions))
    return entry === undefined ? undefined : JSON.parse(entry.text) as PlanState
  }

  async list (): Promise<PlanState[]> {
    const states: PlanState[] = []
    for (const id of [...this.#plans.keys()].sort(compareKeys)) {
      const versions = this.#plans.get(id) as Map<number, Entry>
      for (const version of [...versions.keys()].sort((a, b) => a - b)) {
        states.push(JSON.parse((versions.get(version) as Entry).text) as PlanState)
      }
    }
    return states
  }

  async getActive (): Promise<PlanState | undefined> {
    const active = this.#active
    return active === undefined ? undefined : await this.get(active.id, active.version)
  }

  create (state: PlanState): Promise<void> {
    return this.#serial(async () => {
      if (this.#entry(state.id, state.version) !== undefined) {
        throw new GovexError('GOVEX_ERR_CONFLICT', `plan ${state.id} version ${state.version} exists; submit a change as version ${state.version + 1}`)
      }
      await this.#commit(state)
    })
  }

  update (state: PlanState, expected: PlanStatus): Promise<void> {
    return this.#serial(async () => {
      const entry = this.#entry(state.id, state.version)
      if (entry === undefined) {
        throw new GovexError('GOVEX_ERR_NOT_FOUND', `plan ${state.id} version ${state.version} does not exist; create it first`)
      }
      if (entry.status !== expected) {
        throw new GovexError('GOVEX_ERR_CONFLICT', `plan ${state.id} version ${state.version} is ${entry.status}, not ${expected}; reload it and retry`)
      }
      await this.#commit(state)
    })
  }

  async #commit (state: PlanState): Promise<void> {
    const writes: PlanWrite[] = [{ id: state.id, version: state.version, state, text: JSON.stringify(state) }]
    const active = this.#active
    if (state.status === 'active' && active !== undefined && (active.id !== state.id || active.version !== state.version)) {
      const previous = JSON.parse((this.#entry(active.id, active.version) as Entry).text) as PlanState
      const superseded: PlanState = { ...previous, status: 'superseded', supersededAt: state.activatedAt ?? new Date().toISOString() }
      writes.push({ id: active.id, version: active.version, state: superseded, text: JSON.stringify(superseded) })
    }
    await this.persist(writes)
    // Only now, in one synchronous step, does every reader see the change.
    for (const write of writes) this.#apply(write)
    for (const write of writes) this.#onChange?.({ kind: 'plan', id: write.id, version: write.version })
  }

  #apply (write: PlanWrite): void {
    let versions = this.#plans.get(write.id)
    if (versions === undefined) {
      versions = new Map()
      this.#plans.set(write.id, versions)
    }
    versions.set(write.version, { status: write.state.status, text: write.text })
    const active = this.#active
    if (write.state.status === 'active') {
      this.#active = { id: write.id, version: write.version }
    } else if (active !== undefined && active.id === write.id && active.version === write.version) {
      this.#active = undefined
    }
  }

  #entry (id: string, version: number): Entry | undefined {
    return this.#plans.get(id)?.get(version)
  }

  #serial (step: () => Promise<void>): Promise<void> {
    const run = this.#writes.then(step)
    this.#writes = run.catch(() => {})
    return run
  }
}

function latest (versions: Map<number, Entry>): number {
  let max = 0
  for (const version of versions.keys()) if (version > max) max = version
  return max
}
