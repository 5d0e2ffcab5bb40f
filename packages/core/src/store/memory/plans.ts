// Sharing plans and their lifecycle state, held in memory: create refuses an
// existing (id, version), update is a compare-and-set on the status, and an
// activation supersedes the previously active plan in the same step, so there
// is never a moment with two active plans (PROTOCOL.md "activate").
//
// States are kept parsed and deeply frozen, and every read hands out that one
// object: a plan of 100,000 grants is ~28 MB of JSON, and re-parsing it on every
// get() made activation take seconds. Freezing keeps the old guarantee that a
// reader can never change the stored state (a write to it throws).
import { Slices } from '../../turns.js'
import { GovexError } from '../../codes.js'
import { supersedePlan } from '../../plan/lifecycle.js'
import type { PlanState, PlanStatus } from '../../schemas/plan.js'
import type { PlanStore } from '../types.js'
import { compareKeys, type MemoryStoreOptions, type ChangeListener } from './documents.js'

/** One document to make durable: the state of (id, version). */
export interface PlanWrite {
  id: string
  version: number
  state: PlanState
  /** the stored state this write replaces, if any */
  previous?: PlanState | undefined
}

// Subtrees (a state's grants, approvals, ...) already frozen all the way down:
// a lifecycle step copies only the top of the state, so the next freeze of the
// 100,000 grants it shares costs nothing. Only the state's direct children are
// recorded, which keeps this set small.
const frozenTrees = new WeakSet<object>()

function deepFreeze (value: object): void {
  const stack: object[] = [value]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (Object.isFrozen(next) && frozenTrees.has(next)) continue
    Object.freeze(next)
    if (Array.isArray(next)) {
      // By index: Object.keys of an array would build a string per element (100,000 grants: ~200,000 lists).
      for (let i = 0; i < next.length; i++) {
        const child: unknown = next[i]
        if (typeof child === 'object' && child !== null) stack.push(child)
      }
      continue
    }
    for (const key of Object.keys(next)) {
      const child = (next as Record<string, unknown>)[key]
      if (typeof child === 'object' && child !== null) stack.push(child)
    }
  }
}

/**
 * Freezes `state` and everything in it, in place, and returns it. The store
 * takes ownership of a state it is given: a caller builds a changed state as a
 * new object (as the lifecycle functions do), never by editing one.
 */
export function freezePlanState (state: PlanState): PlanState {
  if (Object.isFrozen(state) && frozenTrees.has(state)) return state
  for (const key of Object.keys(state)) {
    const child = (state as unknown as Record<string, unknown>)[key]
    if (typeof child !== 'object' || child === null || frozenTrees.has(child)) continue
    deepFreeze(child)
    frozenTrees.add(child)
  }
  Object.freeze(state)
  frozenTrees.add(state)
  return state
}

// The JSON of the last state serialised, as UTF-8 bytes: a lifecycle step
// writes the state to its file and answers with it, one serialisation instead
// of two. One slot, so at most one copy of a plan's text is kept beside the
// states (off the JS heap, as a Buffer).
//
// A lifecycle step changes a few small properties and keeps the grants (the
// same frozen array, ~28 MB of JSON for 100,000 grants): the next state's JSON
// reuses the grants' bytes from the slot and serialises only the rest.
interface Serialised {
  readonly state: PlanState
  readonly bytes: Buffer
  /** the grants whose JSON lies in `bytes` from grantsStart to grantsEnd; null when not placed there */
  readonly grants: PlanState['grants'] | null
  readonly grantsStart: number
  readonly grantsEnd: number
}

let lastJson: Serialised | null = null

/** JSON.stringify(state) as UTF-8, remembered for the last frozen state it was asked for. */
export function planStateJson (state: PlanState): Buffer {
  if (lastJson?.state === state) return lastJson.bytes
  const reusable = lastJson !== null && lastJson.grants === state.grants && frozenTrees.has(state.grants)
    ? lastJson.bytes.subarray(lastJson.grantsStart, lastJson.grantsEnd)
    : undefined
  const serialised = serialise(state, reusable)
  if (frozenTrees.has(state)) lastJson = serialised
  return serialised.bytes
}

/** Grants serialised in one JSON.stringify call by planStateJsonInTurns (about 0.5 MB of JSON). */
const GRANTS_PER_SLICE = 2000

/**
 * planStateJson() without one long block of the event loop: a state whose JSON
 * is not at hand has its grants serialised a slice at a time, and other work
 * gets a turn every `sliceMs`. The same bytes as planStateJson(state).
 */
export async function planStateJsonInTurns (state: PlanState, sliceMs = 10): Promise<Buffer> {
  const grants = state.grants as unknown
  if (lastJson?.state === state || lastJson?.grants === grants || !Array.isArray(grants) || grants.length <= GRANTS_PER_SLICE ||
    typeof (grants as { toJSON?: unknown }).toJSON === 'function' || aroundGrants(state) === undefined) return planStateJson(state)
  const pieces: Buffer[] = []
  const slices = new Slices(sliceMs)
  for (let i = 0; i < grants.length; i += GRANTS_PER_SLICE) {
    // "[a,b]" of each slice, its brackets dropped: JSON.stringify(grants) piece by piece
    const json = JSON.stringify(grants.slice(i, i + GRANTS_PER_SLICE))
    pieces.push(Buffer.from((i === 0 ? '[' : ',') + json.slice(1, -1), 'utf8'))
    if (slices.due) await slices.next()
  }
  pieces.push(Buffer.from(']', 'utf8'))
  const serialised = serialise(state, pieces)
  if (frozenTrees.has(state)) lastJson = serialised
  return serialised.bytes
}

/**
 * planStateJson() with the grants' bytes taken from the JSON text of
 * `previous`, an earlier state with the same grants (`read` gives it, from its
 * file say): only the small properties are serialised. When the grants' bytes
 * are at hand already, `read` is not called; when `previous`'s text does not
 * hold them where JSON.stringify(previous) would, everything is serialised.
 */
export async function planStateJsonReusing (state: PlanState, previous: PlanState, read: () => Promise<Buffer>): Promise<Buffer> {
  if (previous.grants !== state.grants || lastJson?.state === state || lastJson?.grants === state.grants) return planStateJson(state)
  const around = aroundGrants(previous)
  if (around === undefined) return planStateJson(state)
  let text: Buffer
  try {
    text = await read()
  } catch {
    return planStateJson(state)
  }
  const head = Buffer.from(around.head, 'utf8')
  const tail = Buffer.from(around.tail, 'utf8')
  const end = text.length - tail.length
  const found = end > head.length && text.subarray(0, head.length).equals(head) && text.subarray(end).equals(tail)
  const serialised = serialise(state, found ? text.subarray(head.length, end) : undefined)
  if (frozenTrees.has(state)) lastJson = serialised
  return serialised.bytes
}

/**
 * The JSON text of `state` before and after its grants' JSON: JSON.stringify
 * of each other property, in the state's key order, as JSON.stringify(state)
 * writes them. Undefined for a state whose grants it cannot place this way.
 */
function aroundGrants (state: PlanState): { head: string, tail: string } | undefined {
  const object = state as unknown as Record<string, unknown>
  if (!Array.isArray(object.grants) || typeof object.toJSON === 'function') return undefined
  let head = '{'
  let tail: string | null = null
  let first = true
  for (const key of Object.keys(object)) {
    if (key === 'grants') {
      head += (first ? '' : ',') + '"grants":'
      tail = ''
      first = false
      continue
    }
    const json = JSON.stringify(object[key]) as string | undefined
    if (json === undefined) continue // undefined, functions and symbols: JSON.stringify leaves the property out
    const member = (first ? '' : ',') + JSON.stringify(key) + ':' + json
    first = false
    if (tail === null) head += member
    else tail += member
  }
  return tail === null ? undefined : { head, tail: tail + '}' }
}

/** The state's JSON; `grantsJson`, the grants' JSON when at hand (whole, or in pieces). */
function serialise (state: PlanState, grantsJson: Buffer | readonly Buffer[] | undefined): Serialised {
  const around = aroundGrants(state)
  if (around === undefined) {
    const bytes = Buffer.from(JSON.stringify(state), 'utf8')
    return { state, bytes, grants: null, grantsStart: 0, grantsEnd: 0 }
  }
  const head = Buffer.from(around.head, 'utf8')
  const grants = grantsJson ?? Buffer.from(JSON.stringify(state.grants), 'utf8')
  const tail = Buffer.from(around.tail, 'utf8')
  const bytes = Buffer.concat(Buffer.isBuffer(grants) ? [head, grants, tail] : [head, ...grants, tail])
  return { state, bytes, grants: state.grants, grantsStart: head.length, grantsEnd: bytes.length - tail.length }
}

export class MemoryPlanStore implements PlanStore {
  readonly #plans = new Map<string, Map<number, PlanState>>()
  readonly #onChange: ChangeListener | undefined
  #active: PlanState | undefined
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
  protected restore (state: PlanState): void {
    this.#apply({ id: state.id, version: state.version, state: freezePlanState(state) })
  }

  async get (id: string, version?: number): Promise<PlanState | undefined> {
    const versions = this.#plans.get(id)
    if (versions === undefined) return undefined
    return versions.get(version ?? latest(versions))
  }

  async latestWith (id: string, status: PlanStatus): Promise<PlanState | undefined> {
    let found: PlanState | undefined
    for (const state of this.#plans.get(id)?.values() ?? []) {
      if (state.status === status && (found === undefined || state.version > found.version)) found = state
    }
    return found
  }

  async list (): Promise<PlanState[]> {
    const states: PlanState[] = []
    for (const id of [...this.#plans.keys()].sort(compareKeys)) {
      const versions = this.#plans.get(id) as Map<number, PlanState>
      for (const version of [...versions.keys()].sort((a, b) => a - b)) states.push(versions.get(version) as PlanState)
    }
    return states
  }

  async getActive (): Promise<PlanState | undefined> {
    return this.#active
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
    const writes: PlanWrite[] = [{ id: state.id, version: state.version, state: freezePlanState(state), previous: this.#entry(state.id, state.version) }]
    const active = this.#active
    if (state.status === 'active' && active !== undefined && (active.id !== state.id || active.version !== state.version)) {
      const superseded = supersedePlan(active, state.activatedAt ?? new Date().toISOString())
      writes.push({ id: active.id, version: active.version, state: freezePlanState(superseded), previous: active })
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
    versions.set(write.version, write.state)
    const active = this.#active
    if (write.state.status === 'active') {
      this.#active = write.state
    } else if (active !== undefined && active.id === write.id && active.version === write.version) {
      this.#active = undefined
    }
  }

  #entry (id: string, version: number): PlanState | undefined {
    return this.#plans.get(id)?.get(version)
  }

  #serial (step: () => Promise<void>): Promise<void> {
    const run = this.#writes.then(step)
    this.#writes = run.catch(() => {})
    return run
  }
}

function latest (versions: Map<number, PlanState>): number {
  let max = 0
  for (const version of versions.keys()) if (version > max) max = version
  return max
}
