// Fastify plugin for providers: every route registered in its scope accepts
// only genuine gateway calls, and finds the verified call on `request.gatewayCall`.
import { Transform, pipeline, type Readable } from 'node:stream'
import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { createGatewayVerifier, type GatewayCall, type VerifyOptions } from './verify.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** the verified gateway call (set by @govex/sdk's provider plugin) */
    gatewayCall: GatewayCall
  }
}

export type ProviderPluginOptions = VerifyOptions

const RAW = Symbol('govex.rawBody')
type WithRaw = FastifyRequest & { [RAW]?: Buffer }
type Payload = Readable & { receivedEncodedLength?: number }

/**
 * Passes the body through to the app's parser and hands over a copy of its
 * bytes at the end. It reads the request only once a parser reads it: a
 * request answered unread (415, a GET) stays unread, so Node drains it and
 * the keep-alive connection serves the next request.
 */
class BodyCopy extends Transform {
  #source: Readable | undefined
  #chunks: Buffer[] = []
  readonly #done: (bytes: Buffer) => void

  constructor (source: Readable, done: (bytes: Buffer) => void) {
    super()
    this.#source = source
    this.#done = done
  }

  override _read (size: number): void {
    const source = this.#source
    if (source !== undefined) {
      this.#source = undefined
      pipeline(source, this, () => {})
    }
    super._read(size)
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null, data?: Buffer) => void): void {
    this.#chunks.push(chunk)
    callback(null, chunk)
  }

  override _flush (callback: (err?: Error | null) => void): void {
    this.#done(Buffer.concat(this.#chunks))
    this.#chunks = []
    callback()
  }
}

const plugin: FastifyPluginAsync<ProviderPluginOptions> = async (app, options) => {
  const verify = createGatewayVerifier(options)
  app.decorateRequest('gatewayCall', null as unknown as GatewayCall)
  // Keep a copy of the exact bytes (the digest covers them, not a re-serialisation)
  // as they stream to whichever JSON parser the app uses: no parser of our own,
  // so an app that registered one for application/json keeps it, and its body limits.
  app.addHook('preParsing', async (request, _reply, payload: Payload) => {
    const copy = new BodyCopy(payload, bytes => { (request as WithRaw)[RAW] = bytes })
    // a decompressing hook before this one counts the bytes received on the wire
    if (payload.receivedEncodedLength !== undefined) Object.defineProperty(copy, 'receivedEncodedLength', { get: () => payload.receivedEncodedLength })
    return copy
  })
  // before the route's schema validation and preHandler hooks: an unverified
  // call is answered 401 and nothing of the app looks at it
  app.addHook('preValidation', async (request, reply) => {
    const raw = (request as WithRaw)[RAW]
    const result = raw === undefined
      ? { ok: false as const, code: 'GOVEX_ERR_UNAUTHENTICATED' as const, message: 'no body: a gateway call is a POST with the JSON body its token\'s digest covers' }
      : verify(request.headers, raw)
    if (!result.ok) {
      return await reply.code(401).send({ statusCode: 401, code: result.code, error: 'Unauthorized', message: result.message })
    }
    request.gatewayCall = result.call
  })
}

/** Register in the scope of your provider routes: `app.register(govexProvider, { providerId, gatewayKeys })`. */
export const govexProvider = fp(plugin, { fastify: '5.x', name: '@govex/sdk/provider' })
