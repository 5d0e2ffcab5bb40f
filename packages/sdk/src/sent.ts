// Whether undici began writing a request. PROTOCOL.md "Exchange" lets a client
// resend an envelope only when its connection failed before the request was
// written; an error code cannot prove that (a reset or EPIPE comes before or
// after the bytes left), and a SocketError's byte counts add up every request
// a kept-alive socket carried. undici does tell one thing exactly: it calls a
// dispatch handler's onRequestStart on a connected socket just before it writes
// the request, so a request that failed without that call was never sent.
import type { Duplex } from 'node:stream'
import type { Dispatcher } from 'undici'

type Controller = Dispatcher.DispatchController
// undici's IncomingHttpHeaders, which its index does not export
type Headers = Record<string, string | string[] | undefined>

const started = new WeakSet<object>()

/**
 * An interceptor for `dispatcher.compose()`: marks the dispatch options of each
 * request whose writing began. Pass the same options object to `wasSent`.
 */
export const watchSending: Dispatcher.DispatcherComposeInterceptor = dispatch => (opts, handler) =>
  dispatch(opts, new SendingWatch(handler, () => started.add(opts)))

/** true once undici began writing the request made with these options */
export function wasSent (opts: object): boolean {
  return started.has(opts)
}

class SendingWatch implements Dispatcher.DispatchHandler {
  readonly #handler: Dispatcher.DispatchHandler
  readonly #onStart: () => void

  constructor (handler: Dispatcher.DispatchHandler, onStart: () => void) {
    this.#handler = handler
    this.#onStart = onStart
  }

  onRequestStart (controller: Controller, context: unknown): void {
    this.#handler.onRequestStart?.(controller, context)
    // an abort that was waiting for the socket stops the request here, before a byte is written
    if (!controller.aborted) this.#onStart()
  }

  onRequestUpgrade (controller: Controller, statusCode: number, headers: Headers, socket: Duplex): void {
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket)
  }

  onResponseStart (controller: Controller, statusCode: number, headers: Headers, statusMessage?: string): void {
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage)
  }

  onResponseData (controller: Controller, chunk: Buffer): void {
    this.#handler.onResponseData?.(controller, chunk)
  }

  onResponseEnd (controller: Controller, trailers: Headers): void {
    this.#handler.onResponseEnd?.(controller, trailers)
  }

  onResponseError (controller: Controller, error: Error): void {
    this.#handler.onResponseError?.(controller, error)
  }
}
