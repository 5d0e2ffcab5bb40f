// GET /docs/json must say what every GET answers (PROTOCOL.md: OpenAPI 3 of
// every route), with the documents' own schemas, and documenting an answer
// must not change it: the answer schemas only describe (app.ts serialises with
// JSON.stringify), so the bodies stay byte for byte what the stores hold,
// endpoints, approvals and checkpoint fields included, in their own key order.
import t from 'tap'
import {
  AuditRecord, DisclosureCatalog, Member, checkpointKeysOf, compileCatalog, createAjv, lintCatalog, normalizeFilter,
  openMemoryStores, planStateJson, publicResource
} from '@govex/core'
import type { Directory, Grant, Stores } from '@govex/core'
import type { TSchema } from '@sinclair/typebox'
import { buildGateway, gatewayKeyFromJwk } from '../src/index.js'
import { DisclosurePages } from '../src/disclosure-page.js'
import {
  AuditPageAnswer, AuditStatsAnswer, AuditVerifyAnswer, CatalogAnswer, DigestAnswer, DirectoryAnswer, DisclosureList,
  GrantsAnswer, LintAnswer, MemberList, PlanAnswer, PlanList, VisibleResource
} from '../src/http-schemas.js'
import { activatePlan, envelope, exchange, expectOk } from './helpers/gateway.js'
import type { Harness } from './helpers/gateway.js'
import { GATEWAY_ID, createDeployment, samplePlan } from './helpers/deployment.js'

type Json = Record<string, unknown>
interface Operation { parameters?: Json[], responses: Record<string, { description?: unknown, content?: Record<string, { schema?: Json }> }>, security?: Json[] }
interface OpenApi { openapi: string, info: Json, paths: Record<string, Record<string, Operation>>, components: { schemas: Record<string, Json>, securitySchemes: Record<string, Json> }, security: Json[] }

/** Every GET route of PROTOCOL.md under /v1 and /public. */
const GET_ROUTES = [
  '/v1/catalog', '/v1/catalog/lint', '/v1/catalog/{resourceId}', '/v1/grants/mine',
  '/v1/members', '/v1/members/{id}', '/v1/directories/{agencyId}',
  '/v1/plans', '/v1/plans/{id}', '/v1/plans/{id}/digest',
  '/v1/audit', '/v1/audit/verify', '/v1/audit/stats', '/v1/audit/export',
  '/public/disclosures', '/public/disclosures/{agencyId}'
]

/** A gateway over memory stores the test reads too: a plan, approvals, exchanges allowed and refused, checkpoints. */
async function world (t: { teardown: (fn: () => unknown) => void, equal: (found: unknown, wanted: unknown) => void }): Promise<{ h: Harness, stores: Stores }> {
  const d = await createDeployment()
  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID, checkpoint: { every: 4, sign: gatewayKeyFromJwk(d.actors.gateway.privateJwk).signCheckpoint! } })
  const app = await buildGateway({ config: d.config, stores })
  t.teardown(async () => {
    await app.close()
    await stores.close()
    await d.cleanup()
  })
  const h: Harness = { ...d, app }
  await activatePlan(h, samplePlan())
  expectOk(await exchange(h, 'tj.psb:household-registration', envelope()))
  t.equal((await exchange(h, 'tj.psb:household-registration', envelope({ purpose: 'not-granted' }))).statusCode, 403)
  expectOk(await exchange(h, 'tj.psb:household-registration', envelope()))
  await stores.audit.flush()
  return { h, stores }
}

async function openapiOf (h: Harness): Promise<OpenApi> {
  return expectOk(await h.app.inject({ method: 'GET', url: '/docs/json' })) as OpenApi
}

/** The keywords of an OpenAPI 3.0 Schema Object (3.0.3 §4.7.24): no $id, const, null type, patternProperties... */
const SCHEMA_KEYWORDS = new Set([
  'title', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern',
  'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required', 'enum', 'type', 'allOf', 'oneOf',
  'anyOf', 'not', 'items', 'properties', 'additionalProperties', 'description', 'format', 'default', 'nullable',
  'discriminator', 'readOnly', 'writeOnly', 'xml', 'externalDocs', 'example', 'deprecated', '$ref'
])
const TYPES = new Set(['array', 'boolean', 'integer', 'number', 'object', 'string'])

/** The problems of a Schema Object, each with its JSON Pointer. */
function schemaProblems (doc: OpenApi, schema: unknown, at: string, out: string[]): void {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    out.push(`${at}: not a schema object`)
    return
  }
  const s = schema as Json
  for (const key of Object.keys(s)) if (!SCHEMA_KEYWORDS.has(key) && !key.startsWith('x-')) out.push(`${at}: ${key} is not an OpenAPI 3.0 schema keyword`)
  if (typeof s.$ref === 'string') {
    if (Object.keys(s).length !== 1) out.push(`${at}: $ref beside other keywords`)
    const name = s.$ref.startsWith('#/components/schemas/') ? s.$ref.slice('#/components/schemas/'.length) : undefined
    if (name === undefined || doc.components.schemas[name] === undefined) out.push(`${at}: ${s.$ref} does not resolve`)
    return
  }
  if (s.type !== undefined && (typeof s.type !== 'string' || !TYPES.has(s.type))) out.push(`${at}: type ${JSON.stringify(s.type)}`)
  if (s.type === 'array' && s.items === undefined) out.push(`${at}: an array without items`)
  for (const bound of ['exclusiveMaximum', 'exclusiveMinimum']) if (s[bound] !== undefined && typeof s[bound] !== 'boolean') out.push(`${at}: ${bound} must be a boolean in 3.0`)
  if (s.required !== undefined && (!Array.isArray(s.required) || s.required.some(r => typeof r !== 'string'))) out.push(`${at}: required`)
  for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
    if (s[key] === undefined) continue
    if (!Array.isArray(s[key])) out.push(`${at}/${key}: not a list`)
    else (s[key] as unknown[]).forEach((sub, i) => { schemaProblems(doc, sub, `${at}/${key}/${i}`, out) })
  }
  for (const key of ['items', 'not'] as const) if (s[key] !== undefined) schemaProblems(doc, s[key], `${at}/${key}`, out)
  if (typeof s.additionalProperties === 'object') schemaProblems(doc, s.additionalProperties, `${at}/additionalProperties`, out)
  if (s.properties !== undefined) for (const [name, sub] of Object.entries(s.properties as Json)) schemaProblems(doc, sub, `${at}/properties/${name}`, out)
}

/** What an OpenAPI 3.0.3 document must hold for the structure /docs relies on. */
function documentProblems (doc: OpenApi): string[] {
  const out: string[] = []
  if (!/^3\.0\.\d+$/.test(doc.openapi)) out.push(`openapi ${doc.openapi}`)
  if (typeof doc.info?.title !== 'string' || typeof doc.info?.version !== 'string') out.push('info.title and info.version')
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    if (!/^[a-zA-Z0-9._-]+$/.test(name)) out.push(`component name ${name}`)
    schemaProblems(doc, schema, `#/components/schemas/${name}`, out)
  }
  const schemes = new Set(Object.keys(doc.components.securitySchemes))
  const securityProblems = (security: Json[] | undefined, at: string): void => {
    for (const requirement of security ?? []) for (const name of Object.keys(requirement)) if (!schemes.has(name)) out.push(`${at}: unknown security scheme ${name}`)
  }
  securityProblems(doc.security, '#/security')
  const operationIds = new Set<string>()
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/')) out.push(`path ${path}`)
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map(m => m[1])
    for (const [method, op] of Object.entries(item)) {
      const at = `${method.toUpperCase()} ${path}`
      if (!['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'].includes(method)) out.push(`${at}: method`)
      securityProblems(op.security, at)
      const id = (op as { operationId?: string }).operationId
      if (id !== undefined) {
        if (operationIds.has(id)) out.push(`${at}: operationId ${id} twice`)
        operationIds.add(id)
      }
      for (const name of templated) {
        if (!(op.parameters ?? []).some(p => p.in === 'path' && p.name === name && p.required === true)) out.push(`${at}: path parameter ${name} undeclared`)
      }
      for (const [i, p] of (op.parameters ?? []).entries()) {
        if (typeof p.name !== 'string' || !['query', 'header', 'path', 'cookie'].includes(p.in as string)) out.push(`${at}: parameter ${i}`)
        if (p.schema !== undefined) schemaProblems(doc, p.schema, `${at} parameter ${String(p.name)}`, out)
      }
      const body = (op as { requestBody?: { content?: Record<string, { schema?: unknown }> } }).requestBody
      for (const [type, media] of Object.entries(body?.content ?? {})) schemaProblems(doc, media.schema, `${at} body ${type}`, out)
      const statuses = Object.keys(op.responses ?? {})
      if (statuses.length === 0) out.push(`${at}: no responses`)
      for (const status of statuses) {
        const response = op.responses[status]!
        if (!/^([1-5][0-9][0-9]|[1-5]XX|default)$/.test(status)) out.push(`${at}: status ${status}`)
        if (typeof response.description !== 'string') out.push(`${at} ${status}: no description`)
        for (const [type, media] of Object.entries(response.content ?? {})) schemaProblems(doc, media.schema, `${at} ${status} ${type}`, out)
      }
    }
  }
  return out
}

t.test('/docs/json is an OpenAPI 3.0 document whose references all resolve', async t => {
  const { h } = await world(t)
  const doc = await openapiOf(h)
  t.same(documentProblems(doc), [], 'no structural problem')
  // the checker finds what it looks for
  const broken = structuredClone(doc)
  broken.components.schemas.Broken = { $id: 'Broken', type: 'object', properties: { a: { $ref: '#/components/schemas/Nothing' } } }
  t.equal(documentProblems(broken).length, 2, 'a dangling $ref and an $id are problems')
})

t.test('every GET under /v1 and /public documents its 200 answer with a schema; the documents are shared components', async t => {
  const { h } = await world(t)
  const doc = await openapiOf(h)
  const gets = Object.entries(doc.paths).filter(([path, item]) => (path.startsWith('/v1/') || path.startsWith('/public/')) && item.get !== undefined).map(([path]) => path)
  t.same(gets.sort(), [...GET_ROUTES].sort(), 'the document lists every GET route')
  for (const path of GET_ROUTES) {
    const responses = doc.paths[path]?.get?.responses ?? {}
    const ok = responses['200']
    const media = Object.entries(ok?.content ?? {})
    t.ok(media.length > 0, `GET ${path}: a 200 with content`)
    for (const [type, { schema }] of media) {
      t.ok(schema !== undefined && Object.keys(schema).some(k => ['type', '$ref', 'allOf', 'anyOf'].includes(k)), `GET ${path}: its ${type} answer has a schema`)
    }
    t.not(ok?.description, 'Default Response', `GET ${path}: the 200 says what it is`)
    if (path.startsWith('/public/')) t.ok(responses['304'], `GET ${path}: documents the 304 of a current If-None-Match`)
  }
  const portal = doc.paths['/public/disclosures/{agencyId}']!.get!.responses['200']!.content!
  t.same(Object.keys(portal).sort(), ['application/json', 'text/html'], 'the readable page is the text/html alternative')
  t.equal(portal['text/html']!.schema!.type, 'string')
  t.same(Object.keys(doc.paths['/v1/audit/export']!.get!.responses['200']!.content!), ['application/x-ndjson'], 'the export is NDJSON')

  // The documents' schemas are named components, built from core's own schemas.
  const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` })
  const answerOf = (path: string, type = 'application/json'): Json | undefined => doc.paths[path]!.get!.responses['200']!.content![type]!.schema
  t.same(answerOf('/v1/members/{id}')?.allOf, [ref('Member')], 'one member: the Member schema')
  t.same((answerOf('/v1/members')?.properties as Json).members, { type: 'array', items: ref('Member') }, 'the registry: a list of Member')
  t.same(answerOf('/v1/plans/{id}')?.allOf, [ref('PlanState')], 'a plan: the PlanState schema')
  t.same(((answerOf('/v1/plans')?.properties as Json).plans as Json).items, ref('PlanState'))
  t.same(((answerOf('/v1/audit')?.properties as Json).records as Json).items, ref('AuditRecord'), 'audit records: the AuditRecord schema')
  t.same(answerOf('/v1/audit/export', 'application/x-ndjson'), ref('AuditRecord'), 'an export line: the AuditRecord schema')
  t.same(answerOf('/public/disclosures/{agencyId}'), ref('DisclosureCatalog'), 'one disclosure catalog: the DisclosureCatalog schema')
  t.same(answerOf('/v1/catalog/{resourceId}')?.allOf, [ref('VisibleResource')])
  for (const [name, schema] of Object.entries({ Member, DisclosureCatalog }) as Array<[string, TSchema]>) {
    const component = doc.components.schemas[name]!
    t.same(Object.keys(component.properties as Json), Object.keys(schema.properties as Json), `${name}: core's properties`)
    t.same(component.required, schema.required, `${name}: core's required properties`)
  }
  t.equal((doc.components.schemas.AuditRecord!.anyOf as unknown[]).length, (AuditRecord.anyOf as unknown[]).length, 'AuditRecord: core\'s record kinds')
})

/** Checks `value` against the schema a route documents; the problems, none when it holds. */
function breaches (schema: TSchema, value: unknown): unknown[] {
  const check = createAjv().compile(schema)
  return check(value) ? [] : check.errors ?? []
}

t.test('the answers are what the stores hold, byte for byte, and what /docs says they are', async t => {
  const { h, stores } = await world(t)
  const { operator, auditor, approver, mca, psb } = h.actors
  const get = async (url: string, headers: Record<string, string> = operator.auth()): Promise<string> => {
    const res = await h.app.inject({ method: 'GET', url, headers })
    t.equal(res.statusCode, 200, `GET ${url}`)
    return res.body
  }
  const json = (value: unknown): string => JSON.stringify(value)

  // members
  const members = await stores.members.list()
  let body = await get('/v1/members')
  t.equal(body, json({ members }), 'GET /v1/members')
  t.same(breaches(MemberList, JSON.parse(body)), [])
  body = await get('/v1/members/tj.psb')
  t.equal(body, json(await stores.members.get('tj.psb')), 'GET /v1/members/{id}')
  t.same(breaches(Member, JSON.parse(body)), [])

  // directories and the catalog: endpoints for operators and the provider only
  const directory = await stores.directories.get('tj.psb') as Directory
  t.ok(directory.resources.every(r => r.endpoint !== undefined))
  body = await get('/v1/directories/tj.psb')
  t.equal(body, json(directory), 'GET /v1/directories/{agencyId} (operator): with endpoints')
  t.same(breaches(DirectoryAnswer, JSON.parse(body)), [])
  body = await get('/v1/directories/tj.psb', mca.auth())
  t.equal(body, json({ ...directory, resources: directory.resources.map(publicResource) }), 'GET /v1/directories/{agencyId} (another agency): without')
  t.same(breaches(DirectoryAnswer, JSON.parse(body)), [])
  const resources = new Map((await stores.directories.list()).flatMap(d => d.resources.map(r => [r.id, r] as const)))
  for (const [who, headers, shown] of [['operator', operator.auth(), true], ['another agency', mca.auth(), false]] as const) {
    body = await get('/v1/catalog', headers)
    const ids = (JSON.parse(body) as { resources: Array<{ id: string }> }).resources.map(r => r.id)
    t.equal(ids.length, resources.size)
    t.equal(body, json({ resources: ids.map(id => shown ? resources.get(id) : publicResource(resources.get(id)!)) }), `GET /v1/catalog (${who})`)
    t.same(breaches(CatalogAnswer, JSON.parse(body)), [])
  }
  const household = directory.resources[0]!
  body = await get('/v1/catalog/' + household.id, psb.auth())
  t.equal(body, json(household), 'GET /v1/catalog/{resourceId} (its provider)')
  t.same(breaches(VisibleResource, JSON.parse(body)), [])
  t.equal(await get('/v1/catalog/' + household.id, mca.auth()), json(publicResource(household)), 'GET /v1/catalog/{resourceId} (another agency)')
  body = await get('/v1/catalog/lint')
  t.equal(body, json({ findings: lintCatalog(compileCatalog(await stores.directories.list())) }), 'GET /v1/catalog/lint')
  t.same(breaches(LintAnswer, JSON.parse(body)), [])

  // plans: every version with its approvals, the active one's grants
  const plans = await stores.plans.list()
  t.ok(plans.some(p => p.approvals.length > 0))
  body = await get('/v1/plans', auditor.auth())
  t.equal(body, json({ plans }), 'GET /v1/plans')
  t.same(breaches(PlanList, JSON.parse(body)), [])
  const active = (await stores.plans.getActive())!
  body = await get(`/v1/plans/${active.id}`, auditor.auth())
  t.equal(body, planStateJson(active).toString('utf8'), 'GET /v1/plans/{id}')
  t.same(breaches(PlanAnswer, JSON.parse(body)), [])
  body = await get(`/v1/plans/${active.id}/digest`, approver.auth())
  t.equal(body, json({ digest: active.digest }), 'GET /v1/plans/{id}/digest')
  t.same(breaches(DigestAnswer, JSON.parse(body)), [])
  const grants = active.grants.filter(g => g.consumer === 'tj.mca').map((g: Grant) => ({ ...g, validFrom: g.validFrom ?? active.validFrom, validUntil: g.validUntil ?? active.validUntil }))
  body = await get('/v1/grants/mine', mca.auth())
  t.equal(body, json({ consumer: 'tj.mca', plan: { id: active.id, version: active.version }, grants }), 'GET /v1/grants/mine')
  t.same(breaches(GrantsAnswer, JSON.parse(body)), [])

  // the audit log: exchange, admin and checkpoint records, every field
  const page = await stores.audit.query({}, 100)
  t.same(new Set(page.records.map(r => r.kind)), new Set(['exchange', 'admin', 'checkpoint']))
  body = await get('/v1/audit', auditor.auth())
  t.equal(body, json(page), 'GET /v1/audit')
  t.same(breaches(AuditPageAnswer, JSON.parse(body)), [])
  const gateways = members.filter(m => m.roles.includes('gateway'))
  const verified = await stores.audit.verify({ keys: checkpointKeysOf(gateways) })
  t.ok(verified.ok && (verified.checkpoints ?? 0) > 0, 'checkpoints are checked')
  body = await get('/v1/audit/verify', auditor.auth())
  t.equal(body, json(verified), 'GET /v1/audit/verify')
  t.same(breaches(AuditVerifyAnswer, JSON.parse(body)), [])
  body = await get('/v1/audit/stats?by=consumer', auditor.auth())
  t.equal(body, json(await stores.audit.statistics('consumer', normalizeFilter({}))), 'GET /v1/audit/stats')
  t.same(breaches(AuditStatsAnswer, JSON.parse(body)), [])
  const lines: string[] = []
  for await (const record of stores.audit.scan({})) lines.push(json(record) + '\n')
  body = await get('/v1/audit/export', auditor.auth())
  t.equal(body, lines.join(''), 'GET /v1/audit/export')
  for (const line of body.trimEnd().split('\n')) t.same(breaches(AuditRecord, JSON.parse(line)), [], 'an export line is an AuditRecord')

  // the public portal, JSON and the page
  const catalogs = await stores.disclosures.list()
  const pages = new DisclosurePages(new Map(catalogs.map(c => [c.agency, c])))
  body = await get('/public/disclosures', {})
  t.equal(body, json({ disclosures: catalogs }), 'GET /public/disclosures')
  t.same(breaches(DisclosureList, JSON.parse(body)), [])
  body = await get('/public/disclosures/tj.psb', {})
  t.equal(body, pages.json('tj.psb')!.body, 'GET /public/disclosures/{agencyId}')
  t.same(breaches(DisclosureCatalog, JSON.parse(body)), [])
  const page2 = await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.psb', headers: { accept: 'text/html' } })
  t.equal(page2.headers['content-type'], 'text/html; charset=utf-8')
  t.equal(page2.body, pages.html('tj.psb')!.body, 'GET /public/disclosures/{agencyId} as text/html')
})
