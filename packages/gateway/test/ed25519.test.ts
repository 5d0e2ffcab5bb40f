// The gateway's two Ed25519 signers give the same signature for the same key
// and message (RFC 8032 signatures are deterministic), and a provider verifies
// the JWT either one signs.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { generateKeyPair, publicKeyFromJwk, verifyJwt } from '@govex/core'
import { ed25519Signer, ed25519Backend, nodeCryptoSigner, gatewayKeyFromJwk } from '../src/index.js'

const { privateJwk, publicJwk } = generateKeyPair('gw-k1')

t.test('libsodium is the backend where sodium-native loads (it is an optional dependency of the gateway)', async t => {
  // On this project's supported platforms the prebuilt binary loads; if not, the fallback is node:crypto.
  t.equal(ed25519Backend, process.env.GOVEX_ED25519 === 'node' ? 'node:crypto' : 'libsodium')
})

t.test('both backends sign byte for byte the same', { skip: ed25519Backend === 'libsodium' ? false : 'sodium-native is not loaded here (GOVEX_ED25519=node)' }, async t => {
  const sodium = ed25519Signer(privateJwk, 'libsodium')
  t.equal(sodium.backend, 'libsodium', 'not the fallback compared with itself')
  const node = nodeCryptoSigner(privateJwk)
  t.equal(node.backend, 'node:crypto')
  for (const size of [0, 1, 63, 64, 65, 300, 4096]) {
    const message = Buffer.alloc(size)
    for (let i = 0; i < size; i++) message[i] = (i * 31 + size) & 0xff
    const a = sodium.sign(message)
    t.equal(a.length, 64)
    t.same(a, node.sign(message), `${size}-byte message`)
  }
})

t.test('a JWT signed by either backend verifies with the gateway public key', async t => {
  for (const backend of ['libsodium', 'node:crypto'] as const) {
    const key = gatewayKeyFromJwk(privateJwk, backend)
    const iat = Math.floor(Date.now() / 1000)
    const jti = randomUUID()
    const token = key.sign({ iss: 'tj.gw.1', aud: 'tj.psb', iat, exp: iat + 60, jti, resource: 'tj.psb:r', consumer: 'tj.mca', fields: ['name'], digest: 'sha256:' + '0'.repeat(64) })
    const resolve = (kid: string | undefined) => kid === publicJwk.kid ? publicKeyFromJwk(publicJwk) : undefined
    const result = verifyJwt(token, resolve, { audience: 'tj.psb', issuer: 'tj.gw.1' })
    t.ok(result.ok, backend)
    if (result.ok) t.equal(result.claims.jti, jti, backend)
    // a changed signature is refused
    const broken = token.slice(0, -4) + (token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA')
    t.match(verifyJwt(broken, resolve), { ok: false }, `${backend}: a changed signature fails`)
  }
})

t.test('a private key whose d does not belong to x is refused, whatever the backend', async t => {
  const other = generateKeyPair('k2').privateJwk
  t.throws(() => ed25519Signer({ ...privateJwk, d: other.d }, 'libsodium'), /d does not match x/)
})
