// plan digest is the canonical digest, stable under key order; plan sign
// produces an approval core verifies.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { digestOf, verifyApproval } from '@govex/core'
import type { Member, PublicJwk } from '@govex/core'
import { govex, tempDir } from './helpers/run.js'

const plan = {
  id: 'tj-sharing-plan',
  version: 3,
  title: 'Tianjin plan',
  validFrom: '2026-01-01T00:00:00Z',
  validUntil: '2026-12-31T23:59:59Z',
  grants: [{ id: 'g1', consumer: 'tj.mca', resource: 'tj.psb:household-registration', fields: ['name'], purposes: ['review'] }]
}

t.test('plan digest prints sha256 of the canonical JSON, whatever the key order', async t => {
  const dir = await tempDir(t)
  const a = join(dir, 'a.json')
  const b = join(dir, 'b.json')
  await writeFile(a, JSON.stringify(plan, null, 2))
  const reversed = Object.fromEntries(Object.entries(plan).reverse())
  await writeFile(b, JSON.stringify(reversed))
  const ra = await govex(['plan', 'digest', a])
  const rb = await govex(['plan', 'digest', b])
  t.equal(ra.code, 0, ra.stderr)
  t.match(ra.stdout, /^sha256:[0-9a-f]{64}\n$/)
  t.equal(ra.stdout.trim(), digestOf(plan))
  t.equal(rb.stdout, ra.stdout)
  // a plan state as the gateway answers it digests to the same value
  const state = join(dir, 'state.json')
  await writeFile(state, JSON.stringify({ ...plan, status: 'draft', digest: digestOf(plan), approvals: [], activatedAt: null }))
  t.equal((await govex(['plan', 'digest', state])).stdout, ra.stdout)
  const j = JSON.parse((await govex(['plan', 'digest', a, '--json'])).stdout) as Record<string, unknown>
  t.same(j, { id: 'tj-sharing-plan', version: 3, digest: digestOf(plan) })
  // any change to the document changes the digest
  await writeFile(b, JSON.stringify({ ...plan, version: 4 }))
  t.not((await govex(['plan', 'digest', b])).stdout, ra.stdout)
})

t.test('plan digest refuses what is not a plan, in a readable way', async t => {
  const dir = await tempDir(t)
  const f = join(dir, 'bad.json')
  await writeFile(f, JSON.stringify({ ...plan, grantz: [] }))
  const r = await govex(['plan', 'digest', f])
  t.equal(r.code, 1)
  t.match(r.stderr, /is not a plan document; run "govex lint/)
  t.match(r.stderr, /grantz unknown-property/)
  await writeFile(f, '{ nope')
  const broken = await govex(['plan', 'digest', f])
  t.match(broken.stderr, /is not valid JSON/)
})

t.test('plan sign gives a detached JWS that verifies with the approver\'s public key', async t => {
  const dir = await tempDir(t)
  const f = join(dir, 'plan.json')
  await writeFile(f, JSON.stringify(plan))
  await govex(['keys', 'generate', '--id', 'tj.gov', '--out', dir, '--kid', 'gov-1'])
  const r = await govex(['plan', 'sign', '--key', join(dir, 'tj.gov.key.json'), f])
  t.equal(r.code, 0, r.stderr)
  const signature = r.stdout.trim()
  t.match(signature, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/)
  const pub = JSON.parse(await readFile(join(dir, 'tj.gov.pub.json'), 'utf8')) as PublicJwk
  const approver: Member = { id: 'tj.gov', name: 'Government', roles: ['approver'], keys: [pub] }
  const ok = verifyApproval(signature, digestOf(plan), approver)
  t.same(ok, { ok: true, kid: 'gov-1' })
  const other = verifyApproval(signature, digestOf({ ...plan, version: 4 }), approver)
  t.equal(other.ok, false, 'does not verify for another plan')
  const j = JSON.parse((await govex(['plan', 'sign', '--key', join(dir, 'tj.gov.key.json'), f, '--json'])).stdout) as Record<string, unknown>
  t.equal(j.digest, digestOf(plan))
  t.equal(j.kid, 'gov-1')
})
