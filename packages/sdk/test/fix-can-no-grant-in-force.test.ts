// PROTOCOL.md "Exchange": the grant for (consumer, resource) within validity is
// checked before the purpose, so with every grant for the resource outside its
// validity the gateway answers GOVEX_ERR_NO_GRANT whatever the purpose.
// client.can() answered GOVEX_ERR_PURPOSE_NOT_GRANTED when the purpose asked for
// was listed by none of those expired grants; its dry run now answers as the
// gateway would.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateKeyPair } from '@govex/core'
import { createClient } from '../src/index.js'

const RESOURCE = 'tj.psb:household-registration'
const grant = (id: string, purposes: string[], validFrom: string, validUntil: string): Record<string, unknown> =>
  ({ id, consumer: 'tj.mca', resource: RESOURCE, fields: ['name'], purposes, validFrom, validUntil })

async function clientWith (t: typeof import('tap')['default'], grants: unknown[]) {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    if (req.url === '/v1/grants/mine') res.end(JSON.stringify({ consumer: 'tj.mca', plan: { id: 'p', version: 1 }, grants }))
    else { res.statusCode = 404; res.end(JSON.stringify({ statusCode: 404, code: 'GOVEX_ERR_NOT_FOUND', message: 'no' })) }
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => { resolve() })))
  const client = createClient({ gatewayUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, memberId: 'tj.mca', privateKey: generateKeyPair('k').privateJwk, gatewayId: 'tj.gw' })
  t.teardown(() => client.close())
  return client
}

const NOW = Date.parse('2026-06-01T00:00:00Z')

t.test('every grant for the resource expired: NO_GRANT, whichever purpose is asked', async t => {
  const client = await clientWith(t, [grant('old', ['review'], '2025-01-01T00:00:00Z', '2025-12-31T23:59:59Z')])
  t.equal((await client.can(RESOURCE, { purpose: 'review' }, NOW)).code, 'GOVEX_ERR_NO_GRANT', 'the purpose it lists')
  t.equal((await client.can(RESOURCE, { purpose: 'other' }, NOW)).code, 'GOVEX_ERR_NO_GRANT', 'a purpose it does not list')
})

t.test('a grant in force for another purpose: PURPOSE_NOT_GRANTED, as before', async t => {
  const client = await clientWith(t, [
    grant('old', ['review'], '2025-01-01T00:00:00Z', '2025-12-31T23:59:59Z'),
    grant('now', ['check'], '2026-01-01T00:00:00Z', '2026-12-31T23:59:59Z')
  ])
  t.equal((await client.can(RESOURCE, { purpose: 'other' }, NOW)).code, 'GOVEX_ERR_PURPOSE_NOT_GRANTED')
  t.equal((await client.can(RESOURCE, { purpose: 'review' }, NOW)).code, 'GOVEX_ERR_NO_GRANT', 'the grant listing it is out of its validity')
  t.equal((await client.can(RESOURCE, { purpose: 'check' }, NOW)).allowed, true)
})
