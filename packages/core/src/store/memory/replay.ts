// The replay guard of one gateway process: envelope ids claimed within their
// window, in a compact set (id-set.ts). Expired claims are pruned as it goes,
// so memory follows the traffic of one window and never grows without bound.
import type { ReplayGuard } from '../types.js'
import { ExpiringIdSet } from './id-set.js'
import { envelopeKey } from '../../ids.js'

export interface MemoryReplayGuardOptions {
  /** the clock, in ms (tests) */
  now?: () => number
}

export class MemoryReplayGuard implements ReplayGuard {
  readonly #ids = new ExpiringIdSet()
  readonly #now: () => number

  constructor (options: MemoryReplayGuardOptions = {}) {
    this.#now = options.now ?? Date.now
  }

  async claim (id: string, windowS: number): Promise<boolean> {
    return this.claimNow(id, windowS)
  }

  /** claim(), synchronously: one id in any spelling (UUIDs are case-insensitive) */
  claimNow (id: string, windowS: number): boolean {
    id = envelopeKey(id)
    const now = this.#now()
    if (this.#ids.expiryOf(id, now) !== 0) return false
    this.#ids.hold(id, now + windowS * 1000, now)
    return true
  }

  /** holds `id` (an envelopeKey(), as admission passes it) for its window without asking whether it is held (admission has just asked) */
  holdNow (id: string, windowS: number): void {
    const now = this.#now()
    this.#ids.hold(id, now + windowS * 1000, now)
  }

  /** whether `id` (an envelopeKey(), as admission passes it) is claimed and inside its window */
  isHeld (id: string): boolean {
    return this.#ids.expiryOf(id, this.#now()) !== 0
  }

  /**
   * Holds `id` until `expiresAt` (ms), as a claim made earlier would: for
   * restoring the guard from the audit log at start, oldest first.
   */
  seed (id: string, expiresAt: number): void {
    const now = this.#now()
    if (this.#ids.expiryOf(id, now) >= expiresAt) return
    this.#ids.hold(id, expiresAt, now)
  }

  async release (id: string): Promise<void> {
    this.#ids.drop(envelopeKey(id))
  }

  /** how many claims are held (expired ones may linger until the next prune) */
  get size (): number {
    return this.#ids.size
  }
}
