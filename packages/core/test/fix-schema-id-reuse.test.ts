// Regression: a schema with an $id (Member) validated after a schema that
// contains it (MemberList) must not make Ajv throw "schema with key or id
// already exists" (found by the gateway: bootstrap members, then PUT a member).
import t from 'tap'
import { validateMemberList, validateMember, generateKeyPair } from '../src/index.js'

t.test('Member after MemberList', async t => {
  const member = { id: 'tj.mca', name: 'Civil affairs', roles: ['agency'], keys: [generateKeyPair('k1').publicJwk] }
  t.ok(validateMemberList([member]).ok)
  const result = validateMember(member)
  t.ok(result.ok, JSON.stringify(result))
  t.notOk(validateMember({ ...member, id: 'Bad Id' }).ok, 'still validates')
})
