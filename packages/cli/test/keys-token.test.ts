// keys generate writes a usable key pair; token signs what a gateway accepts.
import t from 'tap'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { publicKeyFromJwk, verifyJwt } from '@govex/core'
import type { PublicJwk } from '@govex/core'
import { govex, tempDir } from './helpers/run.js'

t.test('keys generate writes a private (0600) and a public JWK with the kid', async t => {
  const dir = await tempDir(t)
  const r = await govex(['keys', 'generate', '--id', 'tj.psb', '--out', 'keys', '--kid', 'k1'], { cwd: dir })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /tj\.psb\.key\.json.*tj\.psb\.pub\.json/)
  const priv = JSON.parse(await readFile(join(dir, 'keys/tj.psb.key.json'), 'utf8')) as Record<string, unknown>
  const pub = JSON.parse(await readFile(join(dir, 'keys/tj.psb.pub.json'), 'utf8')) as Record<string, unknown>
  t.match(priv, { kid: 'k1', kty: 'OKP', crv: 'Ed25519', x: String, d: String })
  t.same(Object.keys(pub).sort(), Object.keys(pub).filter(k => k !== 'd').sort(), 'no private part in the public file')
  t.equal(pub.d, undefined)
  t.equal(pub.kid, 'k1')
  t.equal(pub.x, priv.x)
  t.equal((await stat(join(dir, 'keys/tj.psb.key.json'))).mode & 0o777, 0o600)
})

t.test('keys generate refuses to overwrite unless --force', async t => {
  const dir = await tempDir(t)
  t.equal((await govex(['keys', 'generate', '--id', 'tj.psb', '--out', dir])).code, 0)
  const before = await readFile(join(dir, 'tj.psb.key.json'), 'utf8')
  const again = await govex(['keys', 'generate', '--id', 'tj.psb', '--out', dir])
  t.equal(again.code, 1)
  t.match(again.stderr, /already exists; pass --force/)
  t.equal(again.stderr.trim().split('\n').length, 1, 'one line')
  t.equal(await readFile(join(dir, 'tj.psb.key.json'), 'utf8'), before, 'the key is untouched')
  // a replaced file gets mode 0600 even if it was readable before
  await writeFile(join(dir, 'tj.psb.key.json'), before, { mode: 0o644 })
  const forced = await govex(['keys', 'generate', '--id', 'tj.psb', '--out', dir, '--force', '--json'])
  t.equal(forced.code, 0)
  const report = JSON.parse(forced.stdout) as { id: string, publicJwk: PublicJwk }
  t.equal(report.id, 'tj.psb')
  t.not(await readFile(join(dir, 'tj.psb.key.json'), 'utf8'), before)
  t.equal((await stat(join(dir, 'tj.psb.key.json'))).mode & 0o777, 0o600)
})

t.test('keys generate refuses an id that is not a member id', async t => {
  const dir = await tempDir(t)
  const r = await govex(['keys', 'generate', '--id', 'TJ PSB', '--out', dir])
  t.equal(r.code, 1)
  t.match(r.stderr, /^error: "TJ PSB" is not a member id/)
})

t.test('token verifies against the public key, with iss, aud, iat, exp, jti', async t => {
  const dir = await tempDir(t)
  await govex(['keys', 'generate', '--id', 'tj.mca', '--out', dir, '--kid', 'mca-1'])
  const r = await govex(['token', '--key', join(dir, 'tj.mca.key.json'), '--iss', 'tj.mca', '--aud', 'tj.gw.extranet-1', '--ttl', '120'])
  t.equal(r.code, 0, r.stderr)
  const token = r.stdout.trim()
  t.equal(token.split('.').length, 3)
  const pub = JSON.parse(await readFile(join(dir, 'tj.mca.pub.json'), 'utf8')) as PublicJwk
  const v = verifyJwt(token, kid => kid === 'mca-1' ? publicKeyFromJwk(pub) : undefined)
  t.equal(v.ok, true, JSON.stringify(v))
  if (v.ok) {
    const c = v.claims as Record<string, unknown>
    t.equal(c.iss, 'tj.mca')
    t.equal(c.aud, 'tj.gw.extranet-1')
    t.equal((c.exp as number) - (c.iat as number), 120)
    t.match(c.jti, /^[0-9a-f-]{36}$/)
    t.equal(v.header.alg, 'EdDSA')
  }
  const other = await govex(['token', '--key', join(dir, 'tj.mca.key.json'), '--iss', 'tj.mca', '--aud', 'tj.gw.extranet-1'])
  t.not(other.stdout.trim(), token, 'a fresh jti each time')
})

t.test('token refuses a ttl over 300 s, a public key, and a missing key file', async t => {
  const dir = await tempDir(t)
  await govex(['keys', 'generate', '--id', 'tj.mca', '--out', dir])
  const long = await govex(['token', '--key', join(dir, 'tj.mca.key.json'), '--iss', 'tj.mca', '--aud', 'tj.gw', '--ttl', '301'])
  t.equal(long.code, 1)
  t.match(long.stderr, /too long: gateways refuse tokens valid for more than 300 s/)
  t.equal(long.stdout, '')
  const pub = await govex(['token', '--key', join(dir, 'tj.mca.pub.json'), '--iss', 'tj.mca', '--aud', 'tj.gw'])
  t.equal(pub.code, 1)
  t.match(pub.stderr, /is a public key; pass the private key file/)
  const missing = await govex(['token', '--key', join(dir, 'nope.key.json'), '--iss', 'tj.mca', '--aud', 'tj.gw'])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /cannot read private key .*nope\.key\.json: it does not exist/)
  for (const r of [long, pub, missing]) t.equal(r.stderr.trim().split('\n').length, 1, 'one line: ' + r.stderr)
  const json = await govex(['token', '--key', join(dir, 'tj.mca.key.json'), '--iss', 'tj.mca', '--aud', 'tj.gw', '--json'])
  const parsed = JSON.parse(json.stdout) as { token: string, exp: number }
  t.ok(parsed.exp > Date.now() / 1000)
})
