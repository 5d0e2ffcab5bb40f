import t from 'tap'
import { signApproval, verifyApproval } from '../src/plan/approval.js'
import { signDetached } from '../src/jws.js'
import { b64url, generateKeyPair, privateKeyFromJwk } from '../src/keys.js'
import { createHmac, sign } from 'node:crypto'
import { keyedMember } from './helpers/plan-fixtures.js'

const digest = 'sha256:' + '0123456789abcdef'.repeat(4)
const approver = keyedMember('tj.gov', ['approver'], '2026-01')

t.test('a good approval verifies and names the kid', async t => {
  const signature = signApproval(digest, approver.key)
  t.match(signature, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/)
  t.same(verifyApproval(signature, digest, approver.member), { ok: true, kid: '2026-01' })
})

t.test('rotation: any of the approver\'s keys, selected by kid', async t => {
  const next = generateKeyPair('2026-07')
  const rotated = { ...approver.member, keys: [...approver.member.keys, next.publicJwk] }
  t.same(verifyApproval(signApproval(digest, next.privateJwk), digest, rotated), { ok: true, kid: '2026-07' })
  t.same(verifyApproval(signApproval(digest, approver.key), digest, rotated), { ok: true, kid: '2026-01' })
})

t.test('signApproval refuses what is not a digest', async t => {
  t.throws(() => signApproval('sha256:abc', approver.key), { code: 'GOVEX_ERR_BAD_REQUEST', message: /govex plan digest/ })
  t.throws(() => signApproval(digest.toUpperCase(), approver.key), { code: 'GOVEX_ERR_BAD_REQUEST' })
})

t.test('refusals', async t => {
  const fail = (signature: string, member = approver.member, d = digest) => {
    const result = verifyApproval(signature, d, member)
    t.equal(result.ok, false)
    return result.ok ? '' : result.reason
  }
  const header = (h: unknown) => b64url(JSON.stringify(h))
  const good = signApproval(digest, approver.key)
  const sigPart = good.split('..')[1] as string

  // wrong key under the approver's kid
  const impostor = generateKeyPair('2026-01')
  t.match(fail(signApproval(digest, impostor.privateJwk)), /does not verify/, 'wrong key')
  // another member's key and kid
  const other = keyedMember('tj.other', ['approver'], 'other-kid')
  t.match(fail(signApproval(digest, other.key)), /tj\.gov has no key "other-kid": sign with one of 2026-01/, "another member's kid")
  // the signer is a member without the approver role
  const operator = keyedMember('tj.it-office', ['operator'], 'op')
  t.match(fail(signApproval(digest, operator.key), operator.member), /does not have the approver role/, 'non-approver member')
  // a signature over another digest
  t.match(fail(good, approver.member, 'sha256:' + 'f'.repeat(64)), /does not verify for digest/, 'tampered digest')
  // malformed
  t.match(fail('not a jws'), /not a detached JWS/)
  t.match(fail(good.replace('..', '.e30.')), /not a detached JWS/, 'attached payload is refused')
  t.match(fail(`${header({ kid: '2026-01', alg: 'EdDSA' })}..${sigPart}`), /does not verify/, 'header re-encoded: different signing input')
  // alg other than EdDSA
  const hsHeader = header({ alg: 'HS256', kid: '2026-01' })
  const hs = createHmac('sha256', 'secret').update(`${hsHeader}.${b64url(digest)}`).digest('base64url')
  t.match(fail(`${hsHeader}..${hs}`), /alg "HS256" is refused/)
  t.match(fail(`${header({ alg: 'none', kid: '2026-01' })}..${sigPart}`), /alg "none" is refused/)
  t.match(fail(`${header({ kid: '2026-01' })}..${sigPart}`), /alg undefined is refused/)
  // no kid, crit, b64
  t.match(fail(`${header({ alg: 'EdDSA' })}..${sigPart}`), /no kid/)
  t.match(fail(`${header({ alg: 'EdDSA', kid: 5 })}..${sigPart}`), /no kid/)
  const withHeader = (h: Record<string, unknown>) => {
    const encoded = header(h)
    return `${encoded}..${sign(null, Buffer.from(`${encoded}.${b64url(digest)}`), privateKeyFromJwk(approver.key)).toString('base64url')}`
  }
  t.match(fail(withHeader({ alg: 'EdDSA', kid: '2026-01', b64: false })), /crit and b64/)
  t.match(fail(withHeader({ alg: 'EdDSA', kid: '2026-01', crit: ['exp'] })), /crit and b64/)
  t.same(verifyApproval(withHeader({ kid: '2026-01', alg: 'EdDSA', typ: 'JOSE' }), digest, approver.member), { ok: true, kid: '2026-01' }, 'extra non-critical header accepted')
  // signed over the raw digest bytes instead of the signing input
  const raw = sign(null, Buffer.from(digest), privateKeyFromJwk(approver.key)).toString('base64url')
  t.match(fail(`${header({ alg: 'EdDSA', kid: '2026-01' })}..${raw}`), /does not verify/)
  t.ok(signDetached(digest, approver.key).startsWith(good.split('..')[0] as string))
})
