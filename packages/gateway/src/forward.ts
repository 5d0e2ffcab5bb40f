// Forwarding to providers (PROTOCOL.md "Gateway → provider") with one undici
// Pool per provider origin: bounded connections, keep-alive shorter than the
// providers' (so a reused socket is never one the provider just closed), a
// deadline per call (504), and a cap on the answer's size (502). Uses
// Pool.dispatch with a small handler: no stream or promise machinery per call
// beyond the one promise the route awaits (notes/performance.md).
import { Pool } from 'undici'
import type { Dispatcher } from 'undici'
import { hostRefusal } from '@govex/core'
import { httpError } from './errors.js'

export interface ForwarderOptions {
  /** connections per provider origin (limits.upstreamConnections) */
  connections: number
  /** idle keep-alive, kept under the ~4-5 s that Node and undici servers use */
  keepAliveTimeoutMs?: number
  /**
   * upstream.allowHosts: checked again here, once per endpoint URL, because a
   * stored directory may predate a tightened config or come from a gateway
   * with another config sharing the store (directories are checked on PUT)
   */
  allowHosts?: readonly string[] | undefined
}

export interface UpstreamAnswer {
  status: number
  body: Buffer
}

interface Target {
  pool: Pool
  path: string
}

export const KEEP_ALIVE_TIMEOUT_MS = 3000

class Call implements Dispatcher.DispatchHandler {
  status = 0
  size = 0
  chunks: Buffer[] = []
  done = false
  abort: ((reason?: Error) => void) | null = null
  reason: Error | null = null
  readonly timer: NodeJS.Timeout

  constructor (
    readonly provider: string,
    readonly maxBytes: number,
    timeoutMs: number,
    readonly resolve: (answer: UpstreamAnswer) => void,
    readonly reject: (err: Error) => void
  ) {
    this.timer = setTimeout(() => this.fail(httpError('GOVEX_ERR_UPSTREAM_TIMEOUT', `${provider} did not answer within ${timeoutMs} ms; try again later`)), timeoutMs)
  }

  fail (err: Error): void {
    if (this.done) return
    this.done = true
    clearTimeout(this.timer)
    // undici calls onConnect as it starts writing the request on a connected socket:
    // without it (refused, unreachable, still queued) no byte reached the provider
    ;(err as Error & { requestSent?: boolean }).requestSent = this.abort !== null
    this.reason = err
    this.abort?.(err)
    this.reject(err)
  }

  onConnect (abort: (reason?: Error) => void): void {
    this.abort = abort
    // Queued past the deadline: do not start it now.
    if (this.done) abort(this.reason ?? new Error('aborted'))
  }

  onHeaders (statusCode: number): boolean {
    this.status = statusCode
    return true
  }

  onData (chunk: Buffer): boolean {
    this.size += chunk.length
    if (this.size > this.maxBytes) {
      this.fail(httpError('GOVEX_ERR_UPSTREAM', `${this.provider} answered more than ${this.maxBytes} bytes (limits.upstreamBodyBytes); ask it to narrow the answer`))
      return false
    }
    this.chunks.push(chunk)
    return true
  }

  onComplete (): void {
    if (this.done) return
    this.done = true
    clearTimeout(this.timer)
    const body = this.chunks.length === 1 ? this.chunks[0] as Buffer : Buffer.concat(this.chunks, this.size)
    this.resolve({ status: this.status, body })
  }

  onError (err: Error): void {
    if (this.done) return
    const code = (err as { code?: string }).code
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      this.fail(httpError('GOVEX_ERR_UPSTREAM_TIMEOUT', `${this.provider} did not answer in time; try again later`))
    } else {
      const failure = httpError('GOVEX_ERR_UPSTREAM', `${this.provider} could not be reached or reset the connection; try again later`)
      ;(failure as Error & { upstreamCode?: string }).upstreamCode = code ?? err.name
      this.fail(failure)
    }
  }
}

export class Forwarder {
  readonly #targets = new Map<string, Target>()
  readonly #pools = new Map<string, Pool>()
  readonly #connections: number
  readonly #keepAlive: number
  readonly #allowHosts: readonly string[] | undefined

  constructor (options: ForwarderOptions) {
    this.#connections = options.connections
    this.#keepAlive = options.keepAliveTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS
    this.#allowHosts = options.allowHosts
  }

  #target (url: string): Target {
    let target = this.#targets.get(url)
    if (target !== undefined) return target
    // Refused URLs are never cached, so they are refused every time; allowed ones are checked once.
    const refused = hostRefusal(url, this.#allowHosts)
    if (refused !== undefined) throw new Error(refused)
    const parsed = new URL(url)
    let pool = this.#pools.get(parsed.origin)
    if (pool === undefined) {
      pool = new Pool(parsed.origin, {
        connections: this.#connections,
        keepAliveTimeout: this.#keepAlive,
        keepAliveMaxTimeout: this.#keepAlive,
        keepAliveTimeoutThreshold: 1000
      })
      this.#pools.set(parsed.origin, pool)
    }
    target = { pool, path: parsed.pathname + parsed.search }
    // Endpoint URLs come from validated directories, and retain() drops those no longer in the catalog.
    this.#targets.set(url, target)
    return target
  }

  /**
   * POSTs `body` to `url` with the gateway's token. Resolves with whatever the
   * provider answered (any status); rejects with a coded 502 or 504 whose
   * `requestSent` says whether the body was written to a connection to the
   * provider (false: nothing reached it; the audit record then has no digests).
   */
  forward (provider: string, url: string, body: Buffer, token: string, timeoutMs: number, maxBytes: number): Promise<UpstreamAnswer> {
    return new Promise((resolve, reject) => {
      let target: Target
      try {
        target = this.#target(url)
      } catch (err) {
        // refused before any connection (host not allowed, URL unparsable): no byte left the gateway
        const refused = httpError('GOVEX_ERR_UPSTREAM', `${provider}'s endpoint URL cannot be used; its agency should correct its directory`)
        ;(refused as Error & { requestSent?: boolean }).requestSent = false
        // why, for the operator's log only: the consumer is not told what the provider's endpoint is
        ;(refused as Error & { detail?: string }).detail = `${provider}'s endpoint URL cannot be used: ${(err as Error).message}`
        reject(refused)
        return
      }
      const call = new Call(provider, maxBytes, timeoutMs, resolve, reject)
      target.pool.dispatch({
        path: target.path,
        method: 'POST',
        headers: ['content-type', 'application/json', 'accept', 'application/json', 'authorization', 'Bearer ' + token],
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs
      }, call)
    })
  }

  /**
   * Forgets every endpoint URL not in `urls` (those of the catalog just
   * compiled) and closes the pools no endpoint uses any more, letting their
   * calls in flight finish: directory updates that move endpoints elsewhere
   * leave no pool or socket behind.
   */
  retain (urls: ReadonlySet<string>): void {
    for (const url of this.#targets.keys()) if (!urls.has(url)) this.#targets.delete(url)
    const used = new Set<Pool>()
    for (const target of this.#targets.values()) used.add(target.pool)
    for (const [origin, pool] of this.#pools) {
      if (used.has(pool)) continue
      this.#pools.delete(origin)
      pool.close().catch(() => {})
    }
  }

  async close (): Promise<void> {
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    this.#targets.clear()
    await Promise.all(pools.map(async pool => { await pool.close() }))
  }

  async destroy (): Promise<void> {
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    this.#targets.clear()
    await Promise.all(pools.map(async pool => { await pool.destroy() }))
  }
}
