import t from 'tap'
import { isMemberId, parseResourceId, isFieldName, isEnvelopeId, isResourceId, MEMBER_ID_MAX, RESOURCE_NAME_MAX } from '../src/ids.js'
import { ResourceId } from '../src/schemas/common.js'
import { validateSchema } from '../src/validate.js'
import { validateDirectory } from '../src/documents.js'

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

t.test('fix-resource-id-part-limits: the schema holds each part of a resource id to its own limit', async t => {
  // maxLength alone (193) let a 65-character name, or a member id over 128, through the schema
  const member = 'tj.' + 'a'.repeat(MEMBER_ID_MAX - 3)
  const check = (id: string): boolean => validateSchema(ResourceId, id).ok
  t.ok(check(member + ':' + 'r'.repeat(RESOURCE_NAME_MAX)), 'the longest legal id')
  t.notOk(check('tj.psb:' + 'a'.repeat(RESOURCE_NAME_MAX + 1)), 'a name over 64 characters')
  t.notOk(check(member + 'a:r'), 'a member id over 128 characters')
  t.equal(isResourceId('tj.psb:' + 'a'.repeat(RESOURCE_NAME_MAX + 1)), false, 'as parseResourceId says')
  const directory = validateDirectory({
    agency: 'tj.psb',
    version: 1,
    resources: [{
      id: 'tj.psb:' + 'a'.repeat(RESOURCE_NAME_MAX + 1),
      name: 'n',
      description: 'd',
      classification: 'departmental',
      securityLevel: 'public',
      sharing: { type: 'unconditional' },
      items: [{ name: 'a', type: 'string' }],
      endpoint: { url: 'http://127.0.0.1/x' }
    }]
  })
  t.match(directory, { ok: false, problems: [{ code: 'pattern', path: '/resources/0/id' }] }, 'a directory offering it is refused by the schema')
})
