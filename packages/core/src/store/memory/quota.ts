// Grant quotas of one gateway process (MODEL.md "quota"): `perMinute` as a
// sliding-window counter (the previous 60 s bucket weighted by how much of it
// still overlaps the rolling window, plus the current bucket), `perDay` per UTC
// calendar day. A request is counted only when both windows allow it.
import type { QuotaCounter, QuotaDecision, QuotaLimits } from '../types.js'

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000

interface Counts {
  /** index of the current minute bucket (ms / 60 000) */
  minute: number
  current: number
  previous: number
  /** UTC day number (ms / 86 400 000) */
  day: number
  today: number
}

const SWEEP_MIN = 1024

export class MemoryQuotaCounter implements QuotaCounter {
  readonly #counts = new Map<string, Counts>()
  #sweepAt = SWEEP_MIN

  async consume (key: string, limits: QuotaLimits, nowMs: number): Promise<QuotaDecision> {
    return this.consumeNow(key, limits, nowMs)
  }

  /** consume(), synchronously: for an admission that must not interleave with another */
  consumeNow (key: string, limits: QuotaLimits, nowMs: number): QuotaDecision {
    const { perMinute, perDay } = limits
    if (perMinute === undefined && perDay === undefined) return OK
    const counts = this.#counts.get(key) ?? this.#add(key, nowMs)
    roll(counts, nowMs)
    const minuteWait = perMinute === undefined ? 0 : minuteWaitMs(counts, perMinute, nowMs)
    const dayWait = perDay === undefined || counts.today < perDay ? 0 : (counts.day + 1) * DAY_MS - nowMs
    if (minuteWait === 0 && dayWait === 0) {
      counts.current++
      counts.today++
      return OK
    }
    const window = dayWait >= minuteWait ? 'day' : 'minute'
    return { ok: false, retryAfterS: Math.max(1, Math.ceil(Math.max(minuteWait, dayWait) / 1000)), window }
  }

  /**
   * Counts one request at `atMs` that was allowed then, whatever the limits:
   * for restoring the counters from the audit log at start, oldest first.
   */
  seed (key: string, atMs: number): void {
    const counts = this.#counts.get(key) ?? this.#add(key, atMs)
    roll(counts, atMs)
    const minute = Math.floor(atMs / MINUTE_MS)
    // a record older than the current bucket (clock order aside) counts where it belongs
    if (minute === counts.minute) counts.current++
    else if (minute === counts.minute - 1) counts.previous++
    if (Math.floor(atMs / DAY_MS) === counts.day) counts.today++
  }

  /** how many keys are tracked (idle ones are dropped as it goes) */
  get size (): number {
    return this.#counts.size
  }

  #add (key: string, nowMs: number): Counts {
    // Keys are grants, so bounded; still, idle ones are dropped whenever the
    // map doubles, which keeps the cost amortised O(1).
    if (this.#counts.size >= this.#sweepAt) {
      const minute = Math.floor(nowMs / MINUTE_MS)
      const day = Math.floor(nowMs / DAY_MS)
      for (const [k, c] of this.#counts) if (c.minute < minute - 1 && c.day < day) this.#counts.delete(k)
      this.#sweepAt = Math.max(SWEEP_MIN, this.#counts.size * 2)
    }
    const counts: Counts = { minute: Math.floor(nowMs / MINUTE_MS), current: 0, previous: 0, day: Math.floor(nowMs / DAY_MS), today: 0 }
    this.#counts.set(key, counts)
    return counts
  }
}

const OK: QuotaDecision = Object.freeze({ ok: true })

/** Moves the buckets forward to `nowMs`; a clock a few ms behind stays in the current bucket. */
function roll (counts: Counts, nowMs: number): void {
  const minute = Math.floor(nowMs / MINUTE_MS)
  if (minute > counts.minute) {
    counts.previous = minute === counts.minute + 1 ? counts.current : 0
    counts.current = 0
    counts.minute = minute
  }
  const day = Math.floor(nowMs / DAY_MS)
  if (day > counts.day) {
    counts.today = 0
    counts.day = day
  }
}

/**
 * 0 when one more request fits the rolling minute, else the ms until it does.
 * It fits when previous * (W - e) / W + current + 1 <= limit, e being the ms
 * elapsed in the current bucket; kept in integers (times W) so rounding can
 * never allow one request too many.
 */
function minuteWaitMs (counts: Counts, limit: number, nowMs: number): number {
  const W = MINUTE_MS
  const start = counts.minute * W
  const elapsed = Math.max(0, nowMs - start)
  const { previous: P, current: C } = counts
  if (P * (W - elapsed) + (C + 1) * W <= limit * W) return 0
  if (C + 1 <= limit) {
    // P > 0 here: wait until enough of the previous bucket has slid out.
    return Math.ceil(W * (P - (limit - C - 1)) / P) - elapsed
  }
  // The current bucket alone is spent: in the next one it becomes the previous.
  if (limit < 1) return start + W - nowMs + W
  return start + W - nowMs + Math.ceil(W * (C - (limit - 1)) / C)
}
