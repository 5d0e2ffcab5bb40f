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

const plugin: FastifyPluginAsync<ProviderPluginOptions> = async (app, options) => {
  const verify = createGatewayVerifier(options)
  app.decorateRequest('gatewayCall', null as unknown as GatewayCall)
  // Keep a copy of the exact bytes (the digest covers them, not a re-serialisation)
  // as they stream to whichever JSON parser the app uses: no parser of our own,
  // so an app that registered one for application/json keeps it, and its body limits.
  app.addHook('preParsing', async (request, _reply, payload: Payload) => {
    const chunks: Buffer[] = []
    const copy = new Transform({
      transform (chunk: Buffer, _encoding, callback) {
        chunks.push(chunk)
        callback(null, chunk)
      },
      flush (callback) {
        (request as WithRaw)[RAW] = Buffer.concat(chunks)
        callback()
      }
    })
    // a decompressing hook before this one counts the bytes received on the wire
    if (payload.receivedEncodedLength !== undefined) Object.defineProperty(copy, 'receivedEncodedLength', { get: () => payload.receivedEncodedLength })
    pipeline(payload, copy, () => {})
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
