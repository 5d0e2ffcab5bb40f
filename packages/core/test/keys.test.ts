import t from 'tap'
import { createHmac, generateKeyPairSync } from 'node:crypto'
import {
  b64url, fromB64url, generateKeyPair, publicJwkOf, publicKeyFromJwk, privateKeyFromJwk, publicKeyPem,
  signJwt, verifyJwt, type JwtClaims
} from '../src/keys.js'

const NOW = Date.parse('2026-06-01T12:00:00Z')
const nowS = NOW / 1000

t.test('base64url helpers', async t => {
  t.equal(b64url('hi?>'), 'aGk_Pg')
  t.equal(b64url(new Uint8Array([251, 255])), '-_8')
  const view = new Uint8Array([0, 1, 2, 3]).subarray(1, 3)
  t.equal(b64url(view), 'AQI', 'respects the view offset')
  t.same(fromB64url('aGk_Pg'), Buffer.from('hi?>'))
  t.equal(fromB64url('aGk+Pg'), null, 'plain base64 characters are refused')
  t.equal(fromB64url('a'), null, 'impossible length')
  t.same(fromB64url(''), Buffer.alloc(0))
})

t.test('generateKeyPair', async t => {
  const { privateJwk, publicJwk } = generateKeyPair('2026-01')
  t.equal(privateJwk.kid, '2026-01')
  t.match(privateJwk, { kty: 'OKP', crv: 'Ed25519', x: /^[A-Za-z0-9_-]{43}$/, d: /^[A-Za-z0-9_-]{43}$/ })
  t.same(publicJwk, { kid: '2026-01', kty: 'OKP', crv: 'Ed25519', x: privateJwk.x })
  t.same(publicJwkOf(privateJwk), publicJwk)
  t.notOk('d' in publicJwk)
  const other = generateKeyPair()
  t.match(other.privateJwk.kid, /^\d{4}-\d{2}-[0-9a-f]{6}$/, 'default kid: month and randomness')
  t.not(other.privateJwk.x, privateJwk.x)
})

t.test('KeyObjects from JWKs are cached', async t => {
  const { privateJwk, publicJwk } = generateKeyPair('k')
  const pub = publicKeyFromJwk(publicJwk)
  t.equal(pub.asymmetricKeyType, 'ed25519')
  t.equal(pub.type, 'public')
  t.equal(publicKeyFromJwk({ ...publicJwk }), pub, 'same x, same object')
  const priv = privateKeyFromJwk(privateJwk)
  t.equal(priv.type, 'private')
  t.equal(privateKeyFromJwk({ ...privateJwk }), priv)
  const pem = publicKeyPem(publicJwk)
  t.match(pem, /^-----BEGIN PUBLIC KEY-----\n/)
  t.equal(publicKeyPem(publicJwk), pem)
})

t.test('JWKs that are not Ed25519 or whose d does not match x are refused', async t => {
  const { privateJwk, publicJwk } = generateKeyPair('k')
  const other = generateKeyPair('k')
  t.throws(() => publicKeyFromJwk({ ...publicJwk, x: generateKeyPair().publicJwk.x, crv: 'X25519' as 'Ed25519' }), /not an Ed25519 JWK/)
  t.throws(() => privateKeyFromJwk({ ...privateJwk, kty: 'EC' as 'OKP' }), /not an Ed25519 JWK/)
  // A cached x with another d is not served from the cache.
  privateKeyFromJwk(privateJwk)
  t.throws(() => privateKeyFromJwk({ ...privateJwk, d: other.privateJwk.d }), /d does not match x/)
})

t.test('the key cache is bounded', async t => {
  const first = generateKeyPair().publicJwk
  const firstKey = publicKeyFromJwk(first)
  // Fill the cache with distinct x values built from raw public keys.
  for (let i = 0; i < 10_000; i++) {
    const x = Buffer.alloc(32, 0)
    x.writeUInt32BE(i, 0)
    x[31] = 1
    try { publicKeyFromJwk({ kid: 'f', kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url') }) } catch {}
  }
  t.not(publicKeyFromJwk(first), firstKey, 'rebuilt after the cache was cleared')
})

function token (header: Record<string, unknown>, claims: JwtClaims, signWith?: (input: string) => string): string {
  const input = b64url(JSON.stringify(header)) + '.' + b64url(JSON.stringify(claims))
  return input + '.' + (signWith === undefined ? '' : signWith(input))
}

t.test('signJwt and verifyJwt', async t => {
  const { privateJwk, publicJwk } = generateKeyPair('gw-1')
  const key = publicKeyFromJwk(publicJwk)
  const claims = { iss: 'tj.mca', aud: 'tj.gw.extranet-1', iat: nowS, exp: nowS + 300, jti: 'x' }
  const jwt = signJwt(privateJwk, claims)
  const [h] = jwt.split('.')
  t.same(JSON.parse(Buffer.from(h as string, 'base64url').toString()), { alg: 'EdDSA', typ: 'JWT', kid: 'gw-1' })

  const seen: Array<[string | undefined, unknown]> = []
  const result = verifyJwt(jwt, (kid, c) => { seen.push([kid, c.iss]); return key }, { now: NOW, audience: 'tj.gw.extranet-1', issuer: 'tj.mca', maxTtlS: 300 })
  t.same(result, { ok: true, header: { alg: 'EdDSA', typ: 'JWT', kid: 'gw-1' }, claims })
  t.same(seen, [['gw-1', 'tj.mca']], 'resolver gets kid and claims')

  t.ok(verifyJwt(jwt, () => key, { now: NOW, audience: ['pool', 'tj.gw.extranet-1'] }).ok, 'audience list')
  const arrayAud = signJwt(privateJwk, { ...claims, aud: ['x', 'pool'] })
  t.ok(verifyJwt(arrayAud, () => key, { now: NOW, audience: 'pool' }).ok, 'aud array in the token')
  t.match(verifyJwt(arrayAud, () => key, { now: NOW, audience: 'nope' }), { ok: false, reason: 'audience' })
  t.match(verifyJwt(jwt, () => key, { now: NOW, audience: 'other' }), { ok: false, reason: 'audience' })
  t.match(verifyJwt(jwt, () => key, { now: NOW, issuer: 'tj.psb' }), { ok: false, reason: 'issuer' })
  t.ok(verifyJwt(signJwt(privateJwk, { exp: Date.now() / 1000 + 60 }), () => key).ok, 'default clock')
})

t.test('verifyJwt refuses other algorithms and bad forms', async t => {
  const { privateJwk, publicJwk } = generateKeyPair('k')
  const key = publicKeyFromJwk(publicJwk)
  const claims = { iss: 'tj.mca', iat: nowS, exp: nowS + 60 }
  const good = signJwt(privateJwk, claims)
  const parts = good.split('.') as [string, string, string]
  const resolve = () => key
  const opts = { now: NOW }

  t.match(verifyJwt(token({ alg: 'none', typ: 'JWT' }, claims), resolve, opts), { ok: false, reason: 'malformed' }, 'alg none with empty signature')
  t.match(verifyJwt(token({ alg: 'none' }, claims, () => parts[2]), resolve, opts), { ok: false, reason: 'alg' })
  const hs = token({ alg: 'HS256', typ: 'JWT' }, claims, input => createHmac('sha256', publicKeyPem(publicJwk)).update(input).digest('base64url'))
  t.match(verifyJwt(hs, resolve, opts), { ok: false, reason: 'alg', message: /HS256/ }, 'HS256 with the public key as secret')
  t.match(verifyJwt(token({ alg: 'EdDSA', crit: ['b64'] }, claims, () => parts[2]), resolve, opts), { ok: false, reason: 'alg' })
  t.match(verifyJwt(token({ alg: 'EdDSA', kid: 7 }, claims, () => parts[2]), resolve, opts), { ok: false, reason: 'malformed' })

  for (const bad of ['', 'a.b', 'a.b.c.d', '.b.c', `${parts[0]}.${parts[1]}.`, `${parts[0]}.${parts[1]}.${parts[2]}x`, `!!.${parts[1]}.${parts[2]}`,
    `${b64url('[1]')}.${parts[1]}.${parts[2]}`, `${b64url('{')}.${parts[1]}.${parts[2]}`, `${parts[0]}.${b64url('"s"')}.${parts[2]}`,
    `${parts[0]}.${parts[1]}.${b64url('short')}`]) {
    t.match(verifyJwt(bad, resolve, opts), { ok: false, reason: 'malformed' }, `malformed: ${bad.slice(0, 20)}`)
  }
  t.match(verifyJwt(42 as unknown as string, resolve, opts), { ok: false, reason: 'malformed' })

  t.match(verifyJwt(good, () => undefined, opts), { ok: false, reason: 'unknown-key', message: /tj\.mca.*kid "k"/ })
  t.match(verifyJwt(token({ alg: 'EdDSA' }, claims, () => parts[2]), () => undefined, opts), { ok: false, reason: 'unknown-key', message: /^no key known for iss "tj.mca"$/ })
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey
  t.match(verifyJwt(good, () => rsa, opts), { ok: false, reason: 'alg' }, 'a non-Ed25519 key is never used')
  const otherKey = publicKeyFromJwk(generateKeyPair().publicJwk)
  t.match(verifyJwt(good, () => otherKey, opts), { ok: false, reason: 'signature' })
  const tampered = parts[0] + '.' + b64url(JSON.stringify({ ...claims, iss: 'tj.psb' })) + '.' + parts[2]
  t.match(verifyJwt(tampered, resolve, opts), { ok: false, reason: 'signature' })
})

t.test('verifyJwt time claims and skew', async t => {
  const { privateJwk, publicJwk } = generateKeyPair('k')
  const key = publicKeyFromJwk(publicJwk)
  const check = (claims: JwtClaims, options = {}) => verifyJwt(signJwt(privateJwk, claims), () => key, { now: NOW, ...options })

  t.match(check({ iat: nowS }), { ok: false, reason: 'claims', message: /exp is required/ })
  t.match(check({ exp: 'soon' }), { ok: false, reason: 'claims' })
  t.match(check({ exp: nowS + 10, iat: '1' }), { ok: false, reason: 'claims' })
  t.match(check({ exp: nowS + 10, nbf: null }), { ok: false, reason: 'claims' })

  t.ok(check({ exp: nowS - 29 }).ok, 'expired 29 s ago: within the 30 s skew')
  t.match(check({ exp: nowS - 30 }), { ok: false, reason: 'expired' })
  t.match(check({ exp: nowS - 5 }, { skewS: 0 }), { ok: false, reason: 'expired' })
  t.ok(check({ exp: nowS + 1 }, { skewS: 0 }).ok)

  t.ok(check({ exp: nowS + 100, iat: nowS + 30 }).ok, 'iat 30 s ahead: within skew')
  t.match(check({ exp: nowS + 100, iat: nowS + 31 }), { ok: false, reason: 'iat-future' })
  t.ok(check({ exp: nowS + 100, nbf: nowS + 30 }).ok)
  t.match(check({ exp: nowS + 100, nbf: nowS + 31 }), { ok: false, reason: 'not-yet-valid' })

  t.ok(check({ iat: nowS, exp: nowS + 300 }, { maxTtlS: 300 }).ok)
  t.match(check({ iat: nowS, exp: nowS + 301 }, { maxTtlS: 300 }), { ok: false, reason: 'ttl', message: /301 s; at most 300/ })
  t.match(check({ exp: nowS + 10 }, { maxTtlS: 300 }), { ok: false, reason: 'claims', message: /iat is required/ })
})
