// Compile-time check (run by test/types.test.ts): a gateway key imported from its
// .pub.json file, as docs/agency-developer-guide.md does, is a GatewayKey's key.
// fix-provider-key-from-json: JSON types kty as string, which PublicJwk refused.
import Fastify from 'fastify'
import gatewayKey from './gateway.pub.json' with { type: 'json' }
import { createGatewayVerifier, govexProvider } from '../../src/index.js'

export const verify = createGatewayVerifier({ providerId: 'tj.psb', gatewayKeys: [{ gatewayId: 'tj.gw.extranet-1', key: gatewayKey }] })

export async function provider (): Promise<void> {
  const app = Fastify()
  await app.register(govexProvider, { providerId: 'tj.psb', gatewayKeys: [{ gatewayId: 'tj.gw.extranet-1', key: gatewayKey }] })
  app.post('/household', async request => ({ data: { requestId: request.gatewayCall.requestId } }))
}
