// Progress of a long audit run (PROTOCOL.md "Command line": `govex audit
// query|verify|export` show progress on a terminal). Written to stderr only
// when stderr is a terminal, so a pipe, a file or a script sees the command's
// own output and nothing else; silent for runs under a second. One line,
// rewritten in place a few times a second by a timer (a step that yields
// nothing for a while, a query page say, still shows it is alive): the
// records counted so far and their rate, or the time spent for a step that
// cannot count.
import type { Output } from './io.js'

export interface ProgressOptions {
  /** nothing is shown before this many ms (default 1000) */
  delayMs?: number
  /** the line is rewritten at most this often (default 250 ms) */
  intervalMs?: number
  /** epoch ms (tests) */
  now?: () => number
}

export class Progress {
  readonly #stderr: Output
  readonly #label: string
  readonly #counts: boolean
  readonly #delayMs: number
  readonly #intervalMs: number
  readonly #now: () => number
  readonly #started: number
  #count = 0
  #lastShown = 0
  #shown = false
  #timer: NodeJS.Timeout | undefined
  #done = false

  /**
   * `label` reads before a count ("exported": "exported 2048 records (…/s)") or,
   * with `counts: false`, names the step ("verifying the store": "verifying the store… 3 s").
   */
  constructor (stderr: Output, label: string, options: ProgressOptions & { counts?: boolean } = {}) {
    this.#stderr = stderr
    this.#label = label
    this.#counts = options.counts ?? true
    this.#delayMs = options.delayMs ?? 1000
    this.#intervalMs = options.intervalMs ?? 250
    this.#now = options.now ?? Date.now
    this.#started = this.#now()
    if (stderr.isTTY === true) {
      this.#timer = setInterval(() => { this.show() }, this.#intervalMs)
      this.#timer.unref()
    }
  }

  /** Counts one record. */
  tick (): void {
    this.#count++
    // the timer cannot fire while a loop keeps the event loop busy: look at the clock now and then
    if ((this.#count & 1023) === 0) this.show()
  }

  /** Counts many at once (a batch of lines). */
  add (n: number): void {
    this.#count += n
    this.show()
  }

  /** Rewrites the line when it is due (called by the timer; public for tests). */
  show (): void {
    if (this.#timer === undefined) return
    const now = this.#now()
    const elapsed = now - this.#started
    if (elapsed < this.#delayMs || (this.#shown && now - this.#lastShown < this.#intervalMs)) return
    this.#lastShown = now
    this.#shown = true
    this.#stderr.write('\r' + this.#line(elapsed) + '\x1b[K')
  }

  /**
   * Ends the line, once: with the total when something was shown and the run
   * succeeded; a failed run only ends the line, so its error starts on its own.
   * Returns the count.
   */
  done (ok = true): number {
    if (this.#done) return this.#count
    this.#done = true
    clearInterval(this.#timer)
    if (this.#shown) {
      const elapsed = this.#now() - this.#started
      this.#stderr.write(ok ? '\r' + this.#line(elapsed) + ', done\x1b[K\n' : '\n')
    }
    return this.#count
  }

  #line (elapsedMs: number): string {
    if (!this.#counts) return `${this.#label}… ${seconds(elapsedMs)}`
    const rate = Math.round(this.#count * 1000 / Math.max(1, elapsedMs))
    return `${this.#label} ${this.#count} records (${rate}/s)`
  }
}

function seconds (ms: number): string {
  const s = Math.floor(ms / 1000)
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`
}
