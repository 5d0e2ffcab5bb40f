// A TCP proxy in front of the shared test Redis, which a test controls: it can
// pause traffic (connections stay open, nothing gets through: a frozen or
// partitioned Redis), take Redis down (every connection dropped, new ones
// refused) and bring it back, without touching the real server other work uses.
import { createServer, connect, type Server, type Socket } from 'node:net'
import { once } from 'node:events'

export type ProxyMode = 'open' | 'paused' | 'down'

export class RedisProxy {
  readonly #server: Server
  readonly #pairs = new Set<[Socket, Socket]>()
  readonly #severed = new Set<[Socket, Socket]>()
  #mode: ProxyMode = 'open'
  /** connections accepted since the proxy was made (reconnects show up here) */
  accepted = 0

  private constructor (server: Server, readonly target: URL, readonly port: number) {
    this.#server = server
  }

  /** A proxy on a free port of 127.0.0.1 to the Redis at `targetUrl`. */
  static async start (targetUrl: string): Promise<RedisProxy> {
    const target = new URL(targetUrl)
    let proxy: RedisProxy | undefined
    const server = createServer(client => proxy?.accept(client))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port')
    proxy = new RedisProxy(server, target, address.port)
    return proxy
  }

  /** The target URL (password and db kept) with the proxy's host and port. */
  get url (): string {
    const url = new URL(this.target.toString())
    url.hostname = '127.0.0.1'
    url.port = String(this.port)
    return url.toString()
  }

  get mode (): ProxyMode {
    return this.#mode
  }

  accept (client: Socket): void {
    this.accepted++
    if (this.#mode === 'down') {
      client.destroy()
      return
    }
    const upstream = connect({ host: this.target.hostname, port: Number(this.target.port || 6379) })
    const pair: [Socket, Socket] = [client, upstream]
    this.#pairs.add(pair)
    const drop = (): void => {
      this.#pairs.delete(pair)
      this.#severed.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
    if (this.#mode === 'paused') this.#hold(pair)
  }

  /** Nothing gets through; connections stay open and data waits (a frozen Redis, a stalled network). */
  pause (): void {
    this.#mode = 'paused'
    for (const pair of this.#pairs) this.#hold(pair)
  }

  /** Redis is gone: every connection is dropped and new ones are closed at once. */
  down (): void {
    this.#mode = 'down'
    for (const [client, upstream] of this.#pairs) {
      client.destroy()
      upstream.destroy()
    }
    this.#pairs.clear()
  }

  /**
   * The connections open now go silent for good (a firewall or NAT that lost
   * their state, a host gone without a reset); new connections get through.
   */
  sever (): void {
    for (const pair of this.#pairs) {
      this.#hold(pair)
      this.#severed.add(pair)
    }
    this.#pairs.clear()
  }

  /**
   * sever() for one connection only: the one whose side towards Redis uses
   * local port `port` (the port CLIENT LIST shows in its `addr`). The others
   * go on answering.
   */
  severOne (port: number): boolean {
    for (const pair of this.#pairs) {
      if (pair[1].localPort !== port) continue
      this.#hold(pair)
      this.#severed.add(pair)
      this.#pairs.delete(pair)
      return true
    }
    return false
  }

  /** Traffic flows again; what waited while paused is delivered. */
  open (): void {
    const was = this.#mode
    this.#mode = 'open'
    if (was !== 'paused') return
    for (const [client, upstream] of this.#pairs) {
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
      upstream.resume()
    }
  }

  #hold ([client, upstream]: [Socket, Socket]): void {
    client.unpipe(upstream)
    upstream.unpipe(client)
    client.pause()
    upstream.pause()
  }

  async close (): Promise<void> {
    this.down()
    for (const [client, upstream] of this.#severed) {
      client.destroy()
      upstream.destroy()
    }
    this.#server.close()
    await once(this.#server, 'close')
  }
}
