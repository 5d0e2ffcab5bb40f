// Change notification across gateways: every write publishes its StoreChange
// on one channel; a separate subscriber connection hands them to listeners.
// After the subscriber reconnects, changes may have been missed while it was
// away, so listeners get `reload` once it is subscribed again. A subscriber
// only listens, so a connection that went silent would never be noticed: it
// pings every HEARTBEAT_MS, and an unanswered ping gets the connection
// replaced (connection.ts, socketTimeout), which ends in that reload.
//
// Noticing takes seconds; a change must reach every gateway within 1 s
// (PROTOCOL.md). Redis answers a connection in order, so when the answer to a
// ping arrives, every change published before the ping was sent has arrived
// ahead of it: the feed is `fresh` while such a ping was sent less than
// FRESH_MS ago, and the stores refuse admissions (and ping) when it is not,
// rather than let a gateway go on deciding on a view that may miss a change.
import type { Redis } from 'ioredis'
import { CHANGE_REACH_MS, type StoreChange } from '@govex/core'
import { toGovexError } from './connection.js'

export const HEARTBEAT_MS = 200
/**
 * How old the last answered heartbeat may be (from when it was sent): what a
 * silent feed may miss is at most this old, which leaves one heartbeat of the
 * protocol's 1 s to apply a change once heard. Several heartbeats, so a
 * busy event loop does not make a healthy feed look stale; one blocked for
 * more than ~600 ms does, and heals at the next answered heartbeat.
 */
export const FRESH_MS = CHANGE_REACH_MS - HEARTBEAT_MS

const SUBSCRIBING = 'subscribing to store changes in Redis'

const KINDS: ReadonlySet<string> = new Set(['member', 'directory', 'disclosure', 'plan', 'reload'])

export class ChangeFeed {
  readonly #listeners = new Set<(change: StoreChange) => void>()
  readonly #sub: Redis
  readonly #channel: string
  readonly #onError: (err: Error) => void
  #connected = true
  #heartbeat: NodeJS.Timeout | null = null
  /** performance.now() when the newest answered ping (or subscribe) of the current connection was sent */
  #freshSince = -Infinity
  /** counts connections: an answer from an earlier one says nothing about this one */
  #connection = 0
  /** the connection whose SUBSCRIBE was answered, and the one with a SUBSCRIBE in flight (-1: none) */
  #subscribedOn = -1
  #subscribingOn = -1
  /** the message of the last SUBSCRIBE failure told to onError, until one succeeds: a refusal for good is told once, not every beat */
  #told: string | null = null

  /** `subscribed` false: the subscriber is not connected yet; it subscribes (and listeners get `reload`) once it is. */
  constructor (sub: Redis, channel: string, onError: (err: Error) => void, subscribed = true) {
    this.#sub = sub
    this.#channel = channel
    this.#onError = onError
    this.#connected = subscribed
    sub.on('message', (from: string, message: string) => {
      if (from !== channel) return
      const change = parseChange(message)
      if (change !== undefined) this.#emit(change)
    })
    sub.on('close', () => {
      this.#connected = false
      this.#connection++
      this.#freshSince = -Infinity
    })
    sub.on('ready', () => {
      if (this.#connected) return
      this.#connected = true
      // ioredis resubscribes on its own; ours is queued behind it, so once it
      // answers no change can slip between the reload and the subscription
      this.#subscribe(true).catch((err: unknown) => {
        this.#failed(err)
        // a reload now beats none: the gateway still catches up with what is
        // stored (and the heartbeat subscribes again, with another reload)
        this.#emit({ kind: 'reload' })
      })
    })
  }

  /**
   * Subscribes, and starts the heartbeat first: while no SUBSCRIBE has been
   * answered on the current connection (this one failed, or a reconnect's
   * did), each beat sends one instead of a PING, so a feed never stays
   * unfresh — refusing every admission — while Redis answers.
   */
  async start (): Promise<void> {
    this.#heartbeat ??= setInterval(() => { this.#beat() }, HEARTBEAT_MS).unref()
    if (!this.#connected) return
    try {
      await this.#subscribe(false)
    } catch (err) {
      // the caller is told by the rejection; the heartbeat's retries tell only a different failure
      const error = toGovexError(err, SUBSCRIBING)
      this.#told = error.message
      throw error
    }
  }

  #beat (): void {
    if (this.#sub.status !== 'ready' || !this.#connected) return
    if (this.#subscribedOn !== this.#connection) {
      // what was published before this subscription may be missing: reload once it holds
      if (this.#subscribingOn !== this.#connection) this.#subscribe(true).catch((err: unknown) => { this.#failed(err) })
      return
    }
    // a ping that gets no answer has the connection replaced; one that does keeps the feed fresh
    const answered = this.#answered()
    this.#sub.ping().then(answered, () => {})
  }

  /** SUBSCRIBE on the current connection; once answered the feed is fresh (and listeners get `reload` when asked). */
  async #subscribe (reload: boolean): Promise<void> {
    const connection = this.#connection
    const answered = this.#answered()
    this.#subscribingOn = connection
    try {
      await this.#sub.subscribe(this.#channel)
    } finally {
      if (this.#subscribingOn === connection) this.#subscribingOn = -1
    }
    if (connection !== this.#connection) return
    this.#subscribedOn = connection
    this.#told = null
    answered()
    if (reload) this.#emit({ kind: 'reload' })
  }

  /**
   * A SUBSCRIBE failed: the feed stays unfresh (exchanges 503, readyz 503)
   * until one succeeds, so the reason must reach the operator — once, since
   * the heartbeat retries every HEARTBEAT_MS (a user refused the channel by
   * an ACL fails the same way each time).
   */
  #failed (err: unknown): void {
    const error = toGovexError(err, SUBSCRIBING)
    if (error.message === this.#told) return
    this.#told = error.message
    this.#onError(error)
  }

  /** Call before sending a command on the subscriber; call what it returns once the command is answered. */
  #answered (): () => void {
    const sent = performance.now()
    const connection = this.#connection
    return () => {
      if (connection === this.#connection && sent > this.#freshSince) this.#freshSince = sent
    }
  }

  /** false while the subscriber is away or not subscribed yet: changes published now may be missed (a reload follows) */
  get subscribed (): boolean {
    return this.#connected && this.#sub.status === 'ready' && this.#subscribedOn === this.#connection
  }

  /**
   * why the last SUBSCRIBE failed, with what to do, until one succeeds (null:
   * none failed). Already told to onError; it names the Redis user's rights
   * and the channel, so it is for the log, never for an HTTP answer.
   */
  get failure (): string | null {
    return this.#told
  }

  /** ms since the newest answered ping was sent (Infinity when none on this connection) */
  get staleMs (): number {
    return performance.now() - this.#freshSince
  }

  /** subscribed, and every change published more than FRESH_MS ago has been heard */
  get fresh (): boolean {
    return this.subscribed && this.staleMs <= FRESH_MS
  }

  stop (): void {
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat)
    this.#heartbeat = null
  }

  subscribe (listener: (change: StoreChange) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  #emit (change: StoreChange): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change)
      } catch (err) {
        this.#onError(err instanceof Error ? err : new Error(String(err)))
      }
    }
  }
}

function parseChange (message: string): StoreChange | undefined {
  try {
    const value = JSON.parse(message) as { kind?: unknown }
    if (typeof value === 'object' && value !== null && typeof value.kind === 'string' && KINDS.has(value.kind)) return value as StoreChange
  } catch {}
  return undefined
}
