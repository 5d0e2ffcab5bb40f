import t from 'tap'
import { validateMember, validateMemberList, isSchemaFailure } from '../src/documents.js'
import { members } from './fixtures/docs-fixtures.js'

t.test('the example members pass', async t => {
  for (const m of members()) t.ok(validateMember(m).ok, m.id)
  t.ok(validateMemberList(members()).ok)
  t.ok(validateMemberList([]).ok)
})

t.test('duplicate-kid', async t => {
  const m = members()[1]!
  m.keys[1]!.kid = m.keys[0]!.kid
  const result = validateMember(m)
  t.same(result.ok ? [] : result.problems.map(p => [p.code, p.path]), [['duplicate-kid', '/keys/1/kid']])
  t.match(result.ok ? '' : result.problems[0]!.message, /"2025-07".*own kid/)
  t.notOk(!result.ok && isSchemaFailure(result.problems))
})

t.test('duplicate-member and member rules in a list', async t => {
  const list = members()
  list[1]!.keys[1]!.kid = list[1]!.keys[0]!.kid
  list.push(structuredClone(list[0]!))
  const result = validateMemberList(list)
  t.same(result.ok ? [] : result.problems.map(p => [p.code, p.path]), [['duplicate-kid', '/1/keys/1/kid'], ['duplicate-member', '/3/id']])
})

t.test('member schema problems', async t => {
  const m = members()[0] as unknown as Record<string, unknown>
  m.roles = ['agency', 'agency', 'king']
  m.keys = [{ kid: 'k', kty: 'RSA', crv: 'Ed25519', x: 'short', d: 'secret' }]
  const result = validateMember(m)
  t.notOk(result.ok)
  if (result.ok) return
  t.same(result.problems.map(p => [p.code, p.path]), [
    ['enum', '/roles/2'],
    ['duplicate', '/roles'],
    ['unknown-property', '/keys/0/d'],
    ['enum', '/keys/0/kty'],
    ['pattern', '/keys/0/x']
  ])
  t.equal(result.problems[0]!.message, 'must be one of "agency", "operator", "approver", "auditor", "gateway"')
  t.equal(result.problems[3]!.message, 'must be "OKP"')
  t.ok(isSchemaFailure(result.problems))
  const list = validateMemberList([members()[0], { id: 'x' }])
  t.same(list.ok ? [] : list.problems.map(p => p.path), ['/1/name', '/1/roles', '/1/keys'])
})
