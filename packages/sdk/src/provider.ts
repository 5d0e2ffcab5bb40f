// Fastify plugin for providers: every route registered in its scope accepts
// only genuine gateway calls, and finds the verified call on `request.gatewayCall`.
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

const plugin: FastifyPluginAsync<ProviderPluginOptions> = async (app, options) => {
  const verify = createGatewayVerifier(options)
  app.decorateRequest('gatewayCall', null as unknown as GatewayCall)
  // keep the exact bytes: the digest covers them, not a re-serialisation
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    (request as WithRaw)[RAW] = body as Buffer
    try {
      done(null, JSON.parse((body as Buffer).toString('utf8')))
    } catch {
      const err = Object.assign(new Error('the body is not JSON'), { statusCode: 400, code: 'GOVEX_ERR_BAD_REQUEST' })
      done(err, undefined)
    }
  })
  app.addHook('preHandler', async (request, reply) => {
    const result = verify(request.headers, (request as WithRaw)[RAW] ?? Buffer.alloc(0))
    if (!result.ok) {
      return await reply.code(401).send({ statusCode: 401, code: result.code, error: 'Unauthorized', message: result.message })
    }
    request.gatewayCall = result.call
  })
}

/** Register in the scope of your provider routes: `app.register(govexProvider, { providerId, gatewayKeys })`. */
export const govexProvider = fp(plugin, { fastify: '5.x', name: '@govex/sdk/provider' })
