import t from 'tap'
import { isMemberId, parseResourceId, isFieldName, isEnvelopeId, isResourceId } from '../src/ids.js'

t.test('member ids', async t => {
  t.ok(isMemberId('tj.psb'))
  t.ok(isMemberId('tj.binhai.health'))
  t.ok(isMemberId('tj.it-office'))
  t.notOk(isMemberId('Tj.psb'))
  t.notOk(isMemberId('tj..psb'))
  t.notOk(isMemberId('1tj'))
  t.notOk(isMemberId('a'.repeat(129)))
  t.notOk(isMemberId(42))
})

t.test('resource ids', async t => {
  t.same(parseResourceId('tj.psb:household-registration'), { provider: 'tj.psb', name: 'household-registration' })
  t.ok(isResourceId('tj.psb:x'))
  t.equal(parseResourceId(':x'), null)
  t.equal(parseResourceId('tj.psb'), null)
  t.equal(parseResourceId('tj.psb:X'), null)
  t.equal(parseResourceId('tj.psb:' + 'a'.repeat(65)), null)
  t.equal(parseResourceId('../etc:passwd'), null)
  t.equal(parseResourceId(null), null)
})

t.test('fields and envelope ids', async t => {
  t.ok(isFieldName('householdAddress'))
  t.ok(isFieldName('id_number2'))
  t.notOk(isFieldName('_x'))
  t.notOk(isFieldName('__proto__'))
  t.notOk(isFieldName('a'.repeat(65)))
  t.ok(isEnvelopeId('0193a1c2-7c1e-7a35-9b7e-2a8c7c8b5e10'))
  t.ok(isEnvelopeId('9b2e4c1a-3f5d-4e6a-8b7c-1d2e3f4a5b6c'))
  t.notOk(isEnvelopeId('0193a1c2-7c1e-1a35-9b7e-2a8c7c8b5e10'))
  t.notOk(isEnvelopeId('not-a-uuid'))
})
