import t from 'tap'
import { validateDirectory, isSchemaFailure } from '../src/documents.js'
import { psbDirectory, mcaDirectory } from './fixtures/docs-fixtures.js'

const codes = (r: { ok: boolean, problems?: { code: string }[] }) => r.ok ? [] : (r.problems ?? []).map(p => p.code)

t.test('the example directories pass', async t => {
  const psb = psbDirectory()
  const result = validateDirectory(psb)
  t.ok(result.ok)
  if (result.ok) t.equal(result.value, psb, 'the document is returned untouched')
  t.ok(validateDirectory(mcaDirectory()).ok)
  t.ok(validateDirectory({ agency: 'tj.empty', version: 1, resources: [] }).ok, 'a directory may list nothing yet')
})

t.test('resource-not-prefixed', async t => {
  const d = psbDirectory()
  d.resources[0]!.id = 'tj.mca:household-registration'
  d.resources[1]!.id = 'tj.psb.sub:criminal-records'
  const result = validateDirectory(d)
  t.notOk(result.ok)
  if (result.ok) return
  t.same(result.problems.map(p => [p.code, p.path]), [
    ['resource-not-prefixed', '/resources/0/id'],
    ['resource-not-prefixed', '/resources/1/id']
  ])
  t.match(result.problems[0]!.message, /"tj\.psb:household-registration"/, 'says what to write instead')
  t.notOk(isSchemaFailure(result.problems), 'a rule failure (422), not a schema failure')
})

t.test('duplicate-resource', async t => {
  const d = psbDirectory()
  d.resources.push(structuredClone(d.resources[0]!))
  const result = validateDirectory(d)
  t.same(result.ok ? [] : result.problems, [{ code: 'duplicate-resource', path: '/resources/2/id', message: 'resource "tj.psb:household-registration" is listed twice in this directory; give each resource its own id' }])
})

t.test('duplicate-item and duplicate-query-param', async t => {
  const d = psbDirectory()
  const r = d.resources[0]!
  r.items.push({ name: 'name', type: 'string' })
  r.query!.push({ name: 'idNumber', type: 'string' })
  const result = validateDirectory(d)
  t.notOk(result.ok)
  if (result.ok) return
  t.same(result.problems.map(p => [p.code, p.path]), [
    ['duplicate-item', '/resources/0/items/3/name'],
    ['duplicate-query-param', '/resources/0/query/2/name']
  ])
  t.ok(validateDirectory(psbDirectory()).ok, 'the same name may be an item and a query parameter')
})

t.test('conditions-required', async t => {
  for (const conditions of [undefined, '', '   ']) {
    const d = psbDirectory()
    if (conditions === undefined) delete d.resources[0]!.sharing.conditions
    else d.resources[0]!.sharing.conditions = conditions
    const result = validateDirectory(d)
    t.same(codes(result), ['conditions-required'], JSON.stringify(conditions))
    t.equal(result.ok ? '' : result.problems[0]!.path, '/resources/0/sharing/conditions')
  }
  const d = psbDirectory()
  d.resources[0]!.sharing = { type: 'unconditional' }
  t.ok(validateDirectory(d).ok, 'unconditional sharing needs no conditions')
})

t.test('endpoint-scheme', async t => {
  for (const url of ['http://999.999.999.999/x', 'ftp://127.0.0.1/x', 'file:///etc/passwd', 'urn:isbn:0451450523', 'gopher://127.0.0.1:6379/_']) {
    const d = psbDirectory()
    d.resources[0]!.endpoint.url = url
    const result = validateDirectory(d)
    t.same(result.ok ? [] : result.problems.map(p => [p.code, p.path]), [['endpoint-scheme', '/resources/0/endpoint/url']], url)
  }
})

t.test('endpoint-host-not-allowed', async t => {
  const d = psbDirectory()
  t.ok(validateDirectory(d).ok, 'no allowHosts: any host')
  t.ok(validateDirectory(d, {}).ok)
  t.ok(validateDirectory(d, { allowHosts: ['127.0.0.0/8', 'records.psb.tj.gov.cn'] }).ok)
  const result = validateDirectory(d, { allowHosts: ['127.0.0.1'] })
  t.same(result.ok ? [] : result.problems.map(p => [p.code, p.path]), [['endpoint-host-not-allowed', '/resources/1/endpoint/url']])
  t.match(result.ok ? '' : result.problems[0]!.message, /allowHosts/)
  d.resources[0]!.endpoint.url = 'ftp://10.0.0.1/'
  t.same(codes(validateDirectory(d, { allowHosts: [] })), ['endpoint-scheme', 'endpoint-host-not-allowed'], 'a bad scheme is reported once, as a scheme problem')
})

t.test('every rule problem at once', async t => {
  const d = psbDirectory()
  d.resources[0]!.id = 'tj.other:household-registration'
  d.resources[0]!.items.push({ name: 'name', type: 'string' })
  d.resources[1]!.sharing = { type: 'conditional' }
  d.resources[1]!.endpoint.url = 'ftp://x.example/'
  d.resources.push({ ...structuredClone(d.resources[1]!), endpoint: { url: 'https://elsewhere.example/' } })
  t.same(codes(validateDirectory(d, { allowHosts: ['records.psb.tj.gov.cn', '127.0.0.1'] })), [
    'resource-not-prefixed', 'duplicate-item', 'conditions-required', 'endpoint-scheme',
    'duplicate-resource', 'conditions-required', 'endpoint-host-not-allowed'
  ])
})

t.test('rules run only once the schema passed', async t => {
  const d = psbDirectory() as unknown as { resources: Record<string, unknown>[] }
  d.resources[0]!.id = 'tj.mca:household-registration'
  d.resources[0]!.securityLevel = 'secret'
  const result = validateDirectory(d)
  t.same(codes(result), ['enum'])
  t.equal(result.ok ? '' : result.problems[0]!.message, 'must be one of "public", "internal", "confidential"')
  t.ok(!result.ok && isSchemaFailure(result.problems))
})
