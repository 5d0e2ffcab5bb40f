// Long synchronous work cut into slices, with a turn of the event loop between
// them once a slice's time is used up, so requests keep being served: the plan
// index (plan-index.ts), a large document's digest (canonical.ts) and a plan's
// JSON for its store (store/memory/plans.ts).
import { setImmediate as nextTurn } from 'node:timers/promises'

export class Slices {
  readonly #sliceMs: number
  readonly #yieldTo: () => Promise<void>
  #sliceStart = performance.now()

  /** `yieldTo` defaults to setImmediate, which lets pending I/O run first */
  constructor (sliceMs = 10, yieldTo: () => Promise<void> = nextTurn) {
    this.#sliceMs = sliceMs
    this.#yieldTo = yieldTo
  }

  /** whether this slice's time is used up */
  get due (): boolean {
    return performance.now() - this.#sliceStart >= this.#sliceMs
  }

  /** gives the event loop a turn and starts the next slice */
  async next (): Promise<void> {
    await this.#yieldTo()
    this.#sliceStart = performance.now()
  }
}
