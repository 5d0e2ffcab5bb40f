// Sharing plans on files: `<dir>/plans/<id>/<version>.json`, one state each.
// An activation writes the new active state, then the superseded one; a crash
// between the two leaves two active plans, and open() settles that for the
// later activation (the one that was being made) and rewrites the other.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { GovexError } from '../../codes.js'
import { supersedePlan } from '../../plan/lifecycle.js'
import { Plan, type PlanState } from '../../schemas/plan.js'
import { MemoryPlanStore, planStateJsonInTurns, planStateJsonReusing, type PlanWrite } from '../memory/plans.js'
import { compareKeys, type MemoryStoreOptions } from '../memory/documents.js'
import { readFolder, writeFileAtomic } from './atomic.js'
import { parseStoredDocument, type FileStoreOptions } from './documents.js'

const PLAN_ID = new RegExp(Plan.properties.id.pattern as string)
const PLAN_ID_MAX = 128
const VERSION_FILE = /^([1-9][0-9]{0,15})\.json$/

export function isPlanId (value: string): boolean {
  return value.length <= PLAN_ID_MAX && PLAN_ID.test(value)
}

export class FilePlanStore extends MemoryPlanStore {
  readonly #folder: string

  private constructor (folder: string, options: MemoryStoreOptions) {
    super(options)
    this.#folder = folder
  }

  static async open (options: FileStoreOptions): Promise<FilePlanStore> {
    const folder = join(options.dir, 'plans')
    const store = new FilePlanStore(folder, options)
    const states = await loadStates(folder)
    for (const write of settleActive(states)) await writeFileAtomic(store.#path(write.id, write.version), JSON.stringify(write.state))
    for (const { state } of states) store.restore(state)
    return store
  }

  protected override async persist (writes: readonly PlanWrite[]): Promise<void> {
    // Paths first, so an illegal id fails before anything is written.
    const paths = writes.map(write => this.#path(write.id, write.version))
    // Serialised last to first, so the text remembered is the first write's: the state the caller answers with.
    const texts: Buffer[] = []
    for (let i = writes.length - 1; i >= 0; i--) texts[i] = await this.#json(writes[i] as PlanWrite, paths[i] as string)
    for (let i = 0; i < writes.length; i++) await writeFileAtomic(paths[i] as string, texts[i] as Buffer)
  }

  /**
   * The write's JSON. A lifecycle step keeps the grants of the state it
   * replaces, whose file holds their JSON already: when planStateJson() has not
   * got them at hand (the plan an activation supersedes, or any step after a
   * restart), they are read from that file instead of serialised again.
   */
  async #json (write: PlanWrite, path: string): Promise<Buffer> {
    if (write.previous === undefined) return await planStateJsonInTurns(write.state)
    return await planStateJsonReusing(write.state, write.previous, () => readFile(path))
  }

  #path (id: string, version: number): string {
    if (!isPlanId(id)) throw new GovexError('GOVEX_ERR_BAD_REQUEST', `${JSON.stringify(id)} is not a legal plan id; use lowercase letters, digits, ".", "_" and "-"`)
    if (!Number.isSafeInteger(version) || version < 1) throw new GovexError('GOVEX_ERR_BAD_REQUEST', `${JSON.stringify(version)} is not a legal plan version; use a positive integer`)
    return join(this.#folder, id, `${version}.json`)
  }
}

interface Loaded {
  state: PlanState
}

async function loadStates (folder: string): Promise<Loaded[]> {
  const loaded: Loaded[] = []
  for (const plan of await readFolder(folder)) {
    if (!plan.isDirectory || !isPlanId(plan.name)) continue
    for (const file of await readFolder(join(folder, plan.name))) {
      const version = VERSION_FILE.exec(file.name)?.[1]
      if (file.isDirectory || version === undefined) continue
      const path = join(folder, plan.name, file.name)
      const text = await readFile(path, 'utf8')
      const state = parseStoredDocument(path, text) as PlanState
      if (state.id !== plan.name || state.version !== Number(version)) {
        throw new GovexError('GOVEX_ERR_INVALID_DOCUMENT', `${path} holds plan ${JSON.stringify(state.id)} version ${JSON.stringify(state.version)}; move or remove the file`)
      }
      loaded.push({ state })
    }
  }
  return loaded
}

/**
 * When a crash left more than one plan active, the latest activation wins
 * (ties: the higher id, then version); the others become superseded as of it.
 * Changes `states` in place and returns what must be written back.
 */
function settleActive (states: Loaded[]): PlanWrite[] {
  const active = states.filter(loaded => loaded.state.status === 'active')
  if (active.length < 2) return []
  active.sort((a, b) => activation(b.state) - activation(a.state) || compareRef(b.state, a.state))
  const winner = (active[0] as Loaded).state
  const writes: PlanWrite[] = []
  for (const loser of active.slice(1)) {
    const state = supersedePlan(loser.state, winner.activatedAt ?? new Date().toISOString())
    loser.state = state
    writes.push({ id: state.id, version: state.version, state })
  }
  return writes
}

function activation (state: PlanState): number {
  const ms = state.activatedAt === null ? NaN : Date.parse(state.activatedAt)
  return Number.isNaN(ms) ? -Infinity : ms
}

function compareRef (a: PlanState, b: PlanState): number {
  return compareKeys(a.id, b.id) || a.version - b.version
}
