import t from 'tap'
import {
  parseDocument, validateMember, validateMemberList, validateDirectory, validateDisclosure, validatePlan,
  isSchemaFailure, RULE_CODES, isRuleCode
} from '../src/documents.js'
import { compileCatalog } from '../src/catalog.js'
import { LIMITS } from '../src/schemas/common.js'
import type { Problem, Result } from '../src/problems.js'
import { psbDirectory, mcaDirectory, members, plan, disclosure, memberMap, text } from './fixtures/docs-fixtures.js'

const context = { catalog: compileCatalog([psbDirectory(), mcaDirectory()]), members: memberMap() }
const pairs = (r: Result<unknown>): [string, string][] => r.ok ? [] : r.problems.map(p => [p.code, p.path])

t.test('parseDocument: each kind from JSON text', async t => {
  t.ok(parseDocument('member', JSON.stringify(members()[0])).ok)
  t.ok(parseDocument('members', text('./docs-members.json')).ok)
  t.ok(parseDocument('directory', text('./docs-directory-psb.json')).ok)
  t.ok(parseDocument('directory', text('./docs-directory-psb.json'), { allowHosts: ['127.0.0.1', 'records.psb.tj.gov.cn'] }).ok)
  t.same(pairs(parseDocument('directory', text('./docs-directory-psb.json'), { allowHosts: [] })).map(p => p[0]), ['endpoint-host-not-allowed', 'endpoint-host-not-allowed'])
  t.ok(parseDocument('disclosure', text('./docs-disclosure.json')).ok)
  t.ok(parseDocument('plan', text('./docs-plan.json'), context).ok)
  const result = parseDocument('member', JSON.stringify(members()[0]))
  t.same(result.ok && result.value, members()[0], 'the parsed value is the document')
})

t.test('parseDocument: a plan parsed without a context runs no catalog or member rule', async t => {
  const p = plan()
  p.grants[0]!.resource = 'tj.psb:unknown'
  const parse = parseDocument as (kind: string, text: string, context?: unknown) => Result<unknown>
  t.ok(parse('plan', JSON.stringify(p)).ok)
  t.same(pairs(parseDocument('plan', JSON.stringify(p), context)), [['unknown-resource', '/grants/0/resource']])
})

t.test('malformed JSON is a json problem, never a throw', async t => {
  for (const bad of ['', '{', '{"agency": "tj.psb",}', 'undefined', '\u0000', '{"a":1}{"b":2}', "{'a':1}", '[1,2']) {
    const result = parseDocument('directory', bad)
    t.same(pairs(result), [['json', '']], JSON.stringify(bad))
    t.ok(!result.ok && isSchemaFailure(result.problems), 'a json problem is a 400')
  }
  const parse = parseDocument as (kind: string, text: unknown) => Result<unknown>
  t.same(pairs(parse('member', undefined)), [['json', '']])
  t.same(pairs(parse('member', 42)), [['type', '']], 'JSON.parse reads 42, which is not a member')
  t.same(pairs(parse('nonsense', '{}')), [['invalid', '']])
  t.match(parse('nonsense', '{}').ok ? '' : (parse('nonsense', '{}') as { problems: Problem[] }).problems[0]!.message, /use member, members, directory, plan or disclosure/)
})

t.test('wrong types', async t => {
  t.same(pairs(validateDirectory(null)), [['type', '']])
  t.same(pairs(validateDirectory([])), [['type', '']])
  t.same(pairs(validateMemberList({})), [['type', '']])
  t.same(pairs(validateDirectory({ agency: 42, version: '4', resources: {} })), [['type', '/agency'], ['type', '/version'], ['type', '/resources']])
  t.same(pairs(validateDirectory({ agency: 'tj.psb', version: 1.5, resources: [] })), [['type', '/version']])
  const d = psbDirectory() as unknown as { resources: Record<string, unknown>[] }
  d.resources[0]!.items = [{ name: 'x', type: 'string', sensitive: 'yes' }]
  d.resources[0]!.endpoint = { url: 'http://127.0.0.1/', timeoutMs: 0 }
  t.same(pairs(validateDirectory(d)), [['type', '/resources/0/items/0/sensitive'], ['too-small', '/resources/0/endpoint/timeoutMs']])
})

t.test('unknown properties, including __proto__ and constructor in JSON text', async t => {
  const member = JSON.stringify(members()[0]).slice(0, -1)
  for (const key of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'rolez']) {
    const result = parseDocument('member', member + `,${JSON.stringify(key)}:{"polluted":true}}`)
    t.same(pairs(result), [['unknown-property', '/' + key]], key)
    t.match(result.ok ? '' : result.problems[0]!.message, /remove it or check its spelling/)
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted')
  const directory = JSON.parse(text('./docs-directory-psb.json')) as { resources: Record<string, unknown>[] }
  const nested = JSON.stringify(directory).replace('"sharing":{"type":"conditional"', '"sharing":{"__proto__":{"type":"none"},"type":"conditional"')
  t.same(pairs(parseDocument('directory', nested)), [['unknown-property', '/resources/0/sharing/__proto__']])
  const plans = JSON.stringify(plan()).replace('"fields":["name"]', '"fields":["name"],"constructor":{"prototype":{}}')
  t.same(pairs(parseDocument('plan', plans, context)), [['unknown-property', '/grants/1/constructor']])
})

t.test('oversize strings', async t => {
  const m = members()[0]!
  m.name = 'x'.repeat(LIMITS.text + 1)
  m.id = 'tj.' + 'a'.repeat(200)
  t.same(pairs(validateMember(m)), [['too-long', '/id'], ['too-long', '/name']])
  const d = psbDirectory()
  d.resources[0]!.description = 'x'.repeat(LIMITS.longText + 1)
  d.resources[0]!.endpoint.url = 'http://127.0.0.1/' + 'a'.repeat(LIMITS.url)
  d.resources[0]!.items[0]!.name = 'a'.repeat(65)
  t.same(pairs(validateDirectory(d)), [['too-long', '/resources/0/description'], ['too-long', '/resources/0/items/0/name'], ['too-long', '/resources/0/endpoint/url']])
  const huge = 'x'.repeat(1_000_000)
  t.same(pairs(validateDisclosure({ agency: 'tj.psb', entries: [{ category: 'emergencies', title: huge, publishedAt: '2026-01-01' }] })), [['too-long', '/entries/0/title']])
})

t.test('oversize arrays', async t => {
  const m = members()[0]!
  m.keys = Array.from({ length: LIMITS.keysPerMember + 1 }, (_, i) => ({ ...m.keys[0]!, kid: 'k' + i }))
  t.same(pairs(validateMember(m)), [['too-many', '/keys']])
  const d = psbDirectory()
  const r = d.resources[0]!
  r.items = Array.from({ length: LIMITS.itemsPerResource + 1 }, (_, i) => ({ name: 'i' + i, type: 'string' as const }))
  r.query = Array.from({ length: LIMITS.queryParams + 1 }, (_, i) => ({ name: 'q' + i, type: 'string' as const }))
  t.same(pairs(validateDirectory(d)), [['too-many', '/resources/0/items'], ['too-many', '/resources/0/query']])
  const many = psbDirectory()
  many.resources = Array.from({ length: LIMITS.resourcesPerDirectory + 1 }, (_, i) => ({ ...r, items: [{ name: 'x', type: 'string' as const }], query: [], id: 'tj.psb:r' + i }))
  t.same(pairs(validateDirectory(many)), [['too-many', '/resources']])
  const p = plan()
  p.grants[0]!.purposes = Array.from({ length: LIMITS.purposesPerGrant + 1 }, (_, i) => 'p' + i)
  p.grants[1]!.fields = []
  t.same(pairs(validatePlan(p, context)), [['too-many', '/grants/0/purposes'], ['too-few', '/grants/1/fields']])
})

t.test('every schema problem at once', async t => {
  const d = psbDirectory() as unknown as Record<string, unknown> & { resources: Record<string, unknown>[] }
  d.version = 0
  d.extra = true
  delete d.resources[0]!.name
  d.resources[0]!.classification = 'basic:weather'
  d.resources[1]!.sharing = { type: 'sometimes' }
  d.resources[1]!.items = []
  d.resources[1]!.releasedAt = '05/01/2026'
  const result = validateDirectory(d)
  t.same(pairs(result), [
    ['unknown-property', '/extra'],
    ['too-small', '/version'],
    ['required', '/resources/0/name'],
    ['pattern', '/resources/0/classification'],
    ['enum', '/resources/1/sharing/type'],
    ['too-few', '/resources/1/items'],
    ['format', '/resources/1/releasedAt']
  ])
  t.ok(!result.ok && result.problems.every(p => p.message.length > 0))
})

t.test('values that are not JSON data never throw', async t => {
  const trap = new Proxy({}, { ownKeys () { throw new Error('trapped') }, get () { throw new Error('trapped') }, has () { throw new Error('trapped') } })
  t.same(pairs(validateMember(trap)), [['invalid', '']])
  const getter = { agency: 'tj.psb', version: 1, get resources (): never { throw new Error('boom') } }
  const result = validateDirectory(getter)
  t.same(pairs(result), [['invalid', '']])
  t.match(result.ok ? '' : result.problems[0]!.message, /boom/)
  t.ok(!result.ok && isSchemaFailure(result.problems))
  const circular: Record<string, unknown> = { agency: 'tj.psb', version: 1, resources: [] }
  circular.self = circular
  t.same(pairs(validateDirectory(circular)), [['unknown-property', '/self']])
  t.same(pairs(validateMember({ id: 1n, name: () => 1, roles: Symbol('x'), keys: undefined })).map(p => p[1]).sort(), ['/id', '/keys', '/name', '/roles'])
  t.doesNotThrow(() => validatePlan(Object.create(null), context))
  t.same(pairs(validatePlan(undefined, context)), [['type', '']])
  const fakeThrower = { agency: 'tj.psb', get entries (): never { throw 'not an error' } } // eslint-disable-line no-throw-literal
  const thrown = validateDisclosure(fakeThrower)
  t.same(pairs(thrown), [['invalid', '']], 'even a thrown non-Error')
  t.match(thrown.ok ? '' : thrown.problems[0]!.message, /not an error/)
})

t.test('isSchemaFailure tells 400 from 422', async t => {
  t.notOk(isSchemaFailure([]))
  t.ok(isSchemaFailure([{ code: 'json', path: '', message: 'x' }]))
  t.ok(isSchemaFailure([{ code: 'required', path: '/a', message: 'x' }]))
  t.notOk(isSchemaFailure([{ code: 'duplicate-grant', path: '/a', message: 'x' }]))
  t.ok(RULE_CODES.every(isRuleCode))
  t.ok(RULE_CODES.every(code => /^[a-z]+(-[a-z]+)*$/.test(code)), 'kebab-case')
  for (const code of ['required', 'unknown-property', 'type', 'pattern', 'format', 'too-long', 'too-short', 'too-many', 'too-few', 'too-large', 'too-small', 'enum', 'duplicate', 'invalid', 'json']) {
    t.notOk(isRuleCode(code), code + ' is a schema code')
  }
})

t.test('schema messages list the allowed values of a union of literals', async t => {
  const { Type } = await import('@sinclair/typebox')
  const { validateSchema } = await import('../src/validate.js')
  const Level = Type.Union([Type.Literal('low'), Type.Literal('high')])
  const schema = Type.Object({
    level: Level,
    levels: Type.Array(Level),
    mixed: Type.Optional(Type.Union([Type.Literal('auto'), Type.Object({ n: Type.Integer() })])),
    nullable: Type.Optional(Type.Union([Type.String({ format: 'date' }), Type.Null()])),
    plain: Type.Optional(Type.Unsafe<string>({ enum: ['x', 'y'] }))
  })
  const one = validateSchema(schema, { level: 'mid', levels: ['low', 'max', 'min'] })
  t.same(one.ok ? [] : one.problems, [
    { code: 'enum', path: '/level', message: 'must be one of "low", "high"' },
    { code: 'enum', path: '/levels/1', message: 'must be one of "low", "high"' },
    { code: 'enum', path: '/levels/2', message: 'must be one of "low", "high"' }
  ])
  const other = validateSchema(schema, { level: 'low', levels: [], mixed: 'manual', nullable: 5, plain: 'z' })
  t.same(pairs(other), [
    ['enum', '/mixed'], ['type', '/mixed'], ['invalid', '/mixed'],
    ['type', '/nullable'], ['invalid', '/nullable'],
    ['enum', '/plain']
  ], 'unions that are not all literals keep their branch problems')
  t.equal(other.ok ? '' : other.problems[0]!.message, 'must be "auto"')
  t.equal(other.ok ? '' : other.problems[5]!.message, 'must be one of "x", "y"')
})
