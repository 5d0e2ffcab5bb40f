// Change notification across gateways: every write publishes its StoreChange
// on one channel; a separate subscriber connection hands them to listeners.
// After the subscriber reconnects, changes may have been missed while it was
// away, so listeners get `reload` once it is subscribed again. A subscriber
// only listens, so a connection that went silent would never be noticed: it
// pings every HEARTBEAT_MS, and an unanswered ping gets the connection
// replaced (connection.ts, socketTimeout), which ends in that reload.
import type { Redis } from 'ioredis'
import type { StoreChange } from '@govex/core'

export const HEARTBEAT_MS = 1000

const KINDS: ReadonlySet<string> = new Set(['member', 'directory', 'disclosure', 'plan', 'reload'])

export class ChangeFeed {
  readonly #listeners = new Set<(change: StoreChange) => void>()
  readonly #sub: Redis
  readonly #channel: string
  readonly #onError: (err: Error) => void
  #connected = true
  #heartbeat: NodeJS.Timeout | null = null

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
    sub.on('close', () => { this.#connected = false })
    sub.on('ready', () => {
      if (this.#connected) return
      this.#connected = true
      // ioredis resubscribes on its own; ours is queued behind it, so once it
      // answers no change can slip between the reload and the subscription
      sub.subscribe(channel).then(() => this.#emit({ kind: 'reload' }), (err: unknown) => {
        this.#onError(err instanceof Error ? err : new Error(String(err)))
        // a reload now beats none: the gateway still catches up with what is stored
        this.#emit({ kind: 'reload' })
      })
    })
  }

  async start (): Promise<void> {
    if (this.#connected) await this.#sub.subscribe(this.#channel)
    this.#heartbeat ??= setInterval(() => {
      // the answer does not matter: a ping that gets none has the connection replaced
      if (this.#sub.status === 'ready') this.#sub.ping().catch(() => {})
    }, HEARTBEAT_MS).unref()
  }

  /** false while the subscriber is away: changes published now may be missed (a reload follows when it is back) */
  get subscribed (): boolean {
    return this.#connected && this.#sub.status === 'ready'
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
