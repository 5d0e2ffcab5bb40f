import t from 'tap'
import { parseDetached, signDetached, verifyDetached } from '../src/jws.js'
import { b64url, generateKeyPair, publicKeyFromJwk } from '../src/keys.js'
import { generateKeyPairSync, sign } from 'node:crypto'

t.test('detached JWS follows RFC 7515 Appendix F', async t => {
  const { privateJwk, publicJwk } = generateKeyPair('a-1')
  const payload = 'sha256:' + 'ab'.repeat(32)
  const jws = signDetached(payload, privateJwk)
  const [header, empty, signature] = jws.split('.')
  t.equal(empty, '', 'payload omitted from the serialization')
  t.same(JSON.parse(Buffer.from(header as string, 'base64url').toString()), { alg: 'EdDSA', kid: 'a-1' })
  // An independent check: the signing input includes the encoded payload.
  const { verify } = await import('node:crypto')
  t.ok(verify(null, Buffer.from(`${header}.${b64url(payload)}`), publicKeyFromJwk(publicJwk), Buffer.from(signature as string, 'base64url')))

  const parsed = parseDetached(jws)
  t.ok(parsed.ok)
  if (!parsed.ok) return
  t.ok(verifyDetached(parsed.jws, payload, publicKeyFromJwk(publicJwk)))
  t.ok(verifyDetached(parsed.jws, Buffer.from(payload), publicKeyFromJwk(publicJwk)), 'bytes payload')
  t.notOk(verifyDetached(parsed.jws, payload + ' ', publicKeyFromJwk(publicJwk)))
  t.notOk(verifyDetached(parsed.jws, payload, publicKeyFromJwk(generateKeyPair().publicJwk)))
  t.notOk(verifyDetached(parsed.jws, payload, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), 'non-Ed25519 key')
  t.notOk(verifyDetached({ ...parsed.jws, signature: Buffer.alloc(10) }, payload, publicKeyFromJwk(publicJwk)), 'short signature')
})

t.test('the signing input uses the header bytes as sent', async t => {
  const { privateJwk, publicJwk } = generateKeyPair('a-1')
  // A header with spacing and key order no re-encoding would reproduce.
  const header = b64url('{ "kid": "a-1",  "alg": "EdDSA" }')
  const sig = sign(null, Buffer.from(`${header}.${b64url('p')}`), (await import('../src/keys.js')).privateKeyFromJwk(privateJwk))
  const parsed = parseDetached(`${header}..${sig.toString('base64url')}`)
  t.ok(parsed.ok && verifyDetached(parsed.jws, 'p', publicKeyFromJwk(publicJwk)))
})

t.test('parseDetached refuses other forms', async t => {
  const cases: Array<[unknown, RegExp]> = [
    ['', /not a detached JWS/],
    ['a.b.c', /not a detached JWS/],
    ['a..', /not a detached JWS/],
    ['a...b', /not a detached JWS/],
    ['a+b..c', /not a detached JWS/],
    [42, /not a detached JWS/],
    ['a..b', /not base64url/],
    [`${b64url('{')}..AAAA`, /not JSON/],
    [`${b64url('[]')}..AAAA`, /not a JSON object/],
    [`${b64url('null')}..AAAA`, /not a JSON object/]
  ]
  for (const [text, reason] of cases) {
    const result = parseDetached(text as string)
    t.notOk(result.ok, String(text))
    if (!result.ok) t.match(result.reason, reason)
  }
})
