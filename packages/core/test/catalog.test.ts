import t from 'tap'
import { compileCatalog, publicResource } from '../src/catalog.js'
import type { Directory } from '../src/schemas/directory.js'
import { psbDirectory, mcaDirectory } from './fixtures/docs-fixtures.js'

const ids = (entries: Iterable<{ resource: { id: string } }>) => [...entries].map(e => e.resource.id)

function healthDirectory (): Directory {
  return {
    agency: 'tj.binhai.health',
    version: 2,
    resources: [{
      id: 'tj.binhai.health:vaccinations',
      name: 'Vaccination records',
      description: '疫苗接种记录 of residents, by ID number',
      classification: 'thematic:public-health',
      securityLevel: 'confidential',
      sharing: { type: 'unconditional' },
      items: [{ name: 'idNumber', type: 'string' }, { name: 'vaccine', type: 'string' }],
      endpoint: { url: 'https://health.example/vacc' }
    }]
  }
}

const catalog = compileCatalog([psbDirectory(), mcaDirectory(), healthDirectory()])

t.test('index by id, in id order', async t => {
  t.equal(catalog.size, 4)
  t.same([...catalog.resources.keys()], ['tj.binhai.health:vaccinations', 'tj.mca:low-income-households', 'tj.psb:criminal-records', 'tj.psb:household-registration'])
  const entry = catalog.get('tj.psb:household-registration')
  t.ok(entry)
  t.equal(entry?.provider, 'tj.psb')
  t.equal(entry?.resource, psbDirectory().resources[0] === undefined ? undefined : entry?.resource, 'the resource object itself')
  t.same([...entry!.itemNames], ['idNumber', 'name', 'householdAddress'])
  t.ok(entry!.itemNames.has('householdAddress'))
  t.same(entry!.requiredQuery, ['idNumber'], 'only required: true parameters')
  t.same(catalog.get('tj.psb:criminal-records')?.requiredQuery, [], 'no query declared')
  t.equal(catalog.get('tj.psb:nothing'), undefined)
  t.equal(catalog.get('__proto__'), undefined)
  t.equal(catalog.get('constructor'), undefined)
})

t.test('indexes by provider, classification and item', async t => {
  t.same(ids(catalog.byProvider('tj.psb')), ['tj.psb:criminal-records', 'tj.psb:household-registration'])
  t.same(ids(catalog.byProvider('tj.nobody')), [])
  t.same(ids(catalog.byClassification('basic:population')), ['tj.mca:low-income-households', 'tj.psb:household-registration'])
  t.same(ids(catalog.byClassification('departmental')), ['tj.psb:criminal-records'])
  t.same(ids(catalog.byClassification('basic')), [], 'exact classifications only')
  t.same(ids(catalog.byItem('idNumber')), ['tj.binhai.health:vaccinations', 'tj.psb:criminal-records', 'tj.psb:household-registration'])
  t.same(ids(catalog.byItem('subsidyAmount')), ['tj.mca:low-income-households'])
  t.same(ids(catalog.byItem('toString')), [])
  t.ok(Object.isFrozen(catalog.byItem('idNumber')), 'index lists cannot be changed by callers')
  t.ok(Object.isFrozen(catalog.byProvider('nobody')))
})

t.test('search', async t => {
  t.same(ids(catalog.search({})), [...catalog.resources.keys()], 'no criteria: everything')
  t.same(ids(catalog.search({ provider: 'tj.psb' })), ['tj.psb:criminal-records', 'tj.psb:household-registration'])
  t.same(ids(catalog.search({ classification: 'basic:population' })), ['tj.mca:low-income-households', 'tj.psb:household-registration'])
  t.same(ids(catalog.search({ provider: 'tj.psb', classification: 'basic:population' })), ['tj.psb:household-registration'])
  t.same(ids(catalog.search({ provider: 'tj.psb', classification: 'basic:legal-entity' })), [])
  t.same(ids(catalog.search({ q: 'household' })), ['tj.mca:low-income-households', 'tj.psb:household-registration'], 'name words')
  t.same(ids(catalog.search({ q: 'CONVICTIONS' })), ['tj.psb:criminal-records'], 'description words, case-insensitive')
  t.same(ids(catalog.search({ q: '  natural   persons ' })), ['tj.psb:criminal-records', 'tj.psb:household-registration'], 'every word must occur')
  t.same(ids(catalog.search({ q: 'natural household' })), ['tj.psb:household-registration'])
  t.same(ids(catalog.search({ q: '接种' })), ['tj.binhai.health:vaccinations'], 'text without spaces matches inside')
  t.same(ids(catalog.search({ q: 'ｖａｃｃｉｎａｔｉｏｎ' })), ['tj.binhai.health:vaccinations'], 'full-width letters fold (NFKC)')
  t.same(ids(catalog.search({ q: 'household', provider: 'tj.mca' })), ['tj.mca:low-income-households'])
  t.same(ids(catalog.search({ q: 'endpoint' })), [], 'endpoints and ids are not searched')
  t.same(ids(catalog.search({ q: '' })), [...catalog.resources.keys()])
  const result = catalog.search({ provider: 'tj.psb' })
  result.pop()
  t.equal(catalog.byProvider('tj.psb').length, 2, 'search answers a fresh array')
})

t.test('a resource id listed twice keeps its first listing', async t => {
  const again = mcaDirectory()
  again.resources[0]!.name = 'Second'
  const c = compileCatalog([mcaDirectory(), again])
  t.equal(c.size, 1)
  t.equal(c.get('tj.mca:low-income-households')?.resource.name, 'Low-income households')
  t.same(ids(c.byItem('name')), ['tj.mca:low-income-households'])
})

t.test('an empty catalog', async t => {
  const c = compileCatalog([])
  t.equal(c.size, 0)
  t.same(c.search({ q: 'x' }), [])
  t.same(c.byItem('x'), [])
})

t.test('publicResource strips the endpoint only', async t => {
  const resource = psbDirectory().resources[0]!
  const view = publicResource(resource)
  t.notOk('endpoint' in view)
  t.same({ ...view, endpoint: resource.endpoint }, resource)
  t.ok(resource.endpoint, 'the resource itself is not changed')
})

t.test('documents that bypassed validation compile without throwing', async t => {
  const broken = { agency: 'tj.x', version: 1, resources: [{ ...healthDirectory().resources[0]!, id: 'tj.x:broken', items: undefined }] } as unknown as Directory
  const c = compileCatalog([broken])
  t.equal(c.get('tj.x:broken')?.itemNames.size, 0)
})
