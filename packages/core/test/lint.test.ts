import t from 'tap'
import { compileCatalog } from '../src/catalog.js'
import { lintCatalog } from '../src/lint.js'
import type { Directory, Resource } from '../src/schemas/directory.js'
import { psbDirectory, mcaDirectory } from './fixtures/docs-fixtures.js'

function resource (id: string, overrides: Partial<Resource> = {}): Resource {
  return {
    id,
    name: id,
    description: '',
    classification: 'basic:population',
    securityLevel: 'public',
    sharing: { type: 'unconditional' },
    items: [{ name: 'x', type: 'string' }],
    endpoint: { url: 'http://127.0.0.1/' },
    ...overrides
  }
}

const directory = (agency: string, ...resources: Resource[]): Directory => ({ agency, version: 1, resources })

t.test('a clean catalog has no findings', async t => {
  const psb = psbDirectory()
  psb.resources[0]!.classification = 'thematic:residence'
  t.same(lintCatalog(compileCatalog([psb, mcaDirectory()])), [])
  t.same(lintCatalog(compileCatalog([])), [])
})

t.test('duplicate-item: same item name and classification from more than one agency', async t => {
  const findings = lintCatalog(compileCatalog([psbDirectory(), mcaDirectory()]))
  t.same(findings, [{
    code: 'duplicate-item',
    path: '/resources/tj.mca:low-income-households/items/0',
    message: 'data item "name" (basic:population) is offered by tj.mca, tj.psb; possible duplicate construction (Art. 9): consider one authoritative provider and grants to the others',
    resources: ['tj.mca:low-income-households', 'tj.psb:household-registration']
  }])
})

t.test('duplicate-item: one finding per (item, classification), naming every resource', async t => {
  const c = compileCatalog([
    directory('tj.a', resource('tj.a:one', { items: [{ name: 'x', type: 'string' }, { name: 'y', type: 'string' }] }), resource('tj.a:two')),
    directory('tj.b', resource('tj.b:one', { items: [{ name: 'y', type: 'string' }, { name: 'x', type: 'string' }] })),
    directory('tj.c', resource('tj.c:one', { classification: 'departmental' })),
    directory('tj.d', resource('tj.d:one', { classification: 'departmental', items: [{ name: 'z', type: 'string' }, { name: 'x', type: 'number' }] }))
  ])
  const findings = lintCatalog(c)
  t.same(findings.map(f => [f.code, f.path, f.resources]), [
    ['duplicate-item', '/resources/tj.a:one/items/0', ['tj.a:one', 'tj.a:two', 'tj.b:one']],
    ['duplicate-item', '/resources/tj.c:one/items/0', ['tj.c:one', 'tj.d:one']],
    ['duplicate-item', '/resources/tj.a:one/items/1', ['tj.a:one', 'tj.b:one']]
  ], 'sorted by item, then classification')
  t.match(findings[1]!.message, /"x" \(departmental\) is offered by tj\.c, tj\.d/)
})

t.test('duplicate-item: not within one agency', async t => {
  const c = compileCatalog([directory('tj.a', resource('tj.a:one'), resource('tj.a:two'))])
  t.same(lintCatalog(c), [])
})

t.test('conditional-without-conditions', async t => {
  const c = compileCatalog([directory('tj.a',
    resource('tj.a:one', { sharing: { type: 'conditional' } }),
    resource('tj.a:two', { sharing: { type: 'conditional', conditions: ' ' }, items: [{ name: 'q', type: 'string' }] }),
    resource('tj.a:three', { sharing: { type: 'conditional', conditions: 'For audits only' }, items: [{ name: 'r', type: 'string' }] })
  )])
  const findings = lintCatalog(c)
  t.same(findings.map(f => [f.code, f.path, f.resources]), [
    ['conditional-without-conditions', '/resources/tj.a:one/sharing/conditions', ['tj.a:one']],
    ['conditional-without-conditions', '/resources/tj.a:two/sharing/conditions', ['tj.a:two']]
  ])
  t.match(findings[0]!.message, /states no conditions/)
})

t.test('no-items (documents that bypassed validation)', async t => {
  const c = compileCatalog([directory('tj.a', resource('tj.a:empty', { items: [] }), resource('tj.a:ok'))])
  const findings = lintCatalog(c)
  t.same(findings.map(f => [f.code, f.path, f.resources]), [['no-items', '/resources/tj.a:empty/items', ['tj.a:empty']]])
  t.match(findings[0]!.message, /lists no data items/)
})

t.test('lint reports, never fixes', async t => {
  const dirs = [directory('tj.a', resource('tj.a:one', { sharing: { type: 'conditional' }, items: [] }))]
  const before = JSON.stringify(dirs)
  const c = compileCatalog(dirs)
  t.equal(lintCatalog(c).length, 2)
  t.equal(JSON.stringify(dirs), before)
  t.equal(lintCatalog(c).length, 2, 'the same findings on a second run')
})
