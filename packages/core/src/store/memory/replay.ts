// The replay guard of one gateway process: envelope ids claimed within their
// window. Expired claims are pruned as it goes, so memory follows the traffic
// of one window and never grows without bound.
import type { ReplayGuard } from '../types.js'

export interface MemoryReplayGuardOptions {
  /** the clock, in ms (tests) */
  now?: () => number
}

/** Below this many claims a full sweep is not worth it. */
const SWEEP_MIN = 1024

export class MemoryReplayGuard implements ReplayGuard {
  // id -> expiry (ms). Insertion order is claim order, so with one window the
  // oldest claims, the first to expire, sit at the head.
  readonly #claims = new Map<string, number>()
  readonly #now: () => number
  #sweepAt = SWEEP_MIN

  constructor (options: MemoryReplayGuardOptions = {}) {
    this.#now = options.now ?? Date.now
  }

  async claim (id: string, windowS: number): Promise<boolean> {
    return this.claimNow(id, windowS)
  }

  /** claim(), synchronously: for an admission that must not interleave with another */
  claimNow (id: string, windowS: number): boolean {
    if (this.isHeld(id)) return false
    // Deleted first so a renewed claim moves to the tail, keeping claim order.
    this.#claims.delete(id)
    this.#claims.set(id, this.#now() + windowS * 1000)
    return true
  }

  /** whether `id` is claimed and inside its window */
  isHeld (id: string): boolean {
    const now = this.#now()
    this.#prune(now)
    const expires = this.#claims.get(id)
    return expires !== undefined && expires > now
  }

  /**
   * Holds `id` until `expiresAt` (ms), as a claim made earlier would: for
   * restoring the guard from the audit log at start, oldest first.
   */
  seed (id: string, expiresAt: number): void {
    const held = this.#claims.get(id)
    if (held !== undefined && held >= expiresAt) return
    this.#claims.delete(id)
    this.#claims.set(id, expiresAt)
  }

  async release (id: string): Promise<void> {
    this.#claims.delete(id)
  }

  /** how many claims are held (expired ones may linger until the next prune) */
  get size (): number {
    return this.#claims.size
  }

  #prune (now: number): void {
    // Amortised O(1): expired claims at the head go one by one...
    for (const [id, expires] of this.#claims) {
      if (expires > now) break
      this.#claims.delete(id)
    }
    // ...and when windows differ, a long claim at the head can hold shorter
    // expired ones behind it: a full sweep whenever the map doubles bounds that.
    if (this.#claims.size >= this.#sweepAt) {
      for (const [id, expires] of this.#claims) if (expires <= now) this.#claims.delete(id)
      this.#sweepAt = Math.max(SWEEP_MIN, this.#claims.size * 2)
    }
  }
}
