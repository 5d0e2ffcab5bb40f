// The client's token: iss/aud/exp − iat ≤ 300, one signature reused until a fifth
// of its life is left, and (fix-token-after-clock-set-back) signed again when the
// clock was set back before its iat, which the gateway would refuse as issued in
// the future for up to four minutes.
import t from 'tap'
import { generateKeyPair } from '@govex/core'
import { createClient } from '../src/index.js'

const { privateJwk } = generateKeyPair('tj.mca-2026')
const claims = (token: string): Record<string, number | string> => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, number | string>

t.test('a token is reused until shortly before expiry, and signed again after the clock was set back', async t => {
  const client = createClient({ gatewayUrl: 'http://127.0.0.1:1', memberId: 'tj.mca', gatewayId: 'tj.gw.pool', privateKey: privateJwk })
  t.teardown(() => client.close())
  const now = Date.UTC(2026, 5, 1, 12)
  const first = client.token(now)
  const c = claims(first)
  t.equal(c.iss, 'tj.mca')
  t.equal(c.aud, 'tj.gw.pool')
  t.equal(Number(c.exp) - Number(c.iat), 300)
  t.equal(client.token(now + 200_000), first, 'reused')
  const renewed = client.token(now + 250_000)
  t.not(renewed, first, 'renewed with a fifth of its life left')
  t.equal(client.tokensSigned, 2)
  const back = client.token(now + 100_000)
  t.not(back, renewed, 'the clock went back before iat: a new token')
  t.equal(claims(back).iat, Math.floor((now + 100_000) / 1000))
})
