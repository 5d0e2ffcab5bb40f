// The authorization invariant: for random catalogs, plans and requests, the
// gateway (through inject, the whole pipeline: auth, schema, authorize, replay,
// quota, forward, minimise, audit) allows exactly what the naive reference of
// test/helpers/reference.ts allows, refuses with the code it names, and answers
// an allowed exchange with only the granted fields.
import t from 'tap'
import fc from 'fast-check'
import { randomUUID } from 'node:crypto'
import { openMemoryStores, signApproval } from '@govex/core'
import type { Directory, Grant, Plan } from '@govex/core'
import { harness } from '../packages/gateway/test/helpers/gateway.js'
import type { Harness } from '../packages/gateway/test/helpers/gateway.js'
import { GATEWAY_ID } from '../packages/gateway/test/helpers/deployment.js'
import { injectedAnswer, report, runs, tokenCache } from './helpers/answers.js'
import { referenceDecision } from './helpers/reference.js'

const AGENCIES = ['tj.psb', 'tj.mca', 'tj.hrss'] as const
const ITEMS = ['name', 'idNumber', 'street', 'status', 'amount', 'birthDate']
const PURPOSES = ['benefit-review', 'street-survey', 'audit-check']
const LEVELS = ['public', 'internal', 'confidential'] as const
const SHARING = ['unconditional', 'conditional', 'none'] as const
const DAY = 86_400_000

const resourceArb = fc.record({
  name: fc.constantFrom('alpha', 'beta', 'gamma', 'delta'),
  level: fc.constantFrom('public', 'internal', 'internal', 'confidential') as fc.Arbitrary<typeof LEVELS[number]>,
  sharing: fc.constantFrom(...SHARING),
  items: fc.uniqueArray(fc.constantFrom(...ITEMS), { minLength: 1, maxLength: 4 }),
  required: fc.option(fc.constantFrom('idNumber', 'street'), { nil: undefined })
})

const grantArb = fc.record({
  consumer: fc.constantFrom(...AGENCIES),
  resourcePick: fc.nat(),
  fieldsPick: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
  purposes: fc.uniqueArray(fc.constantFrom(...PURPOSES), { minLength: 1, maxLength: 2 }),
  requireCaseRef: fc.boolean(),
  requireUserId: fc.boolean(),
  // now: in force; past/future: outside its own window
  when: fc.constantFrom('plan', 'plan', 'now', 'past', 'future')
})

const requestArb = fc.record({
  consumer: fc.constantFrom(...AGENCIES),
  fromGrant: fc.option(fc.nat(), { nil: undefined }),
  resourcePick: fc.nat(),
  purpose: fc.constantFrom(...PURPOSES),
  fields: fc.option(fc.uniqueArray(fc.constantFrom(...ITEMS), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  userId: fc.option(fc.constantFrom('officer-1', ''), { nil: undefined }),
  caseRef: fc.option(fc.constantFrom('CASE-1', ''), { nil: undefined }),
  query: fc.option(fc.dictionary(fc.constantFrom('idNumber', 'street', 'other'), fc.oneof(fc.constant(null), fc.constant('v'), fc.integer())), { nil: undefined })
})

type ResourceSpec = typeof resourceArb extends fc.Arbitrary<infer R> ? R : never
type GrantSpec = typeof grantArb extends fc.Arbitrary<infer G> ? G : never

function iso (ms: number): string {
  return new Date(ms).toISOString()
}

function build (h: Harness, raw: { resources: Array<[number, ResourceSpec]>, grants: GrantSpec[] }, version: number): { directories: Directory[], plan: Plan } {
  const now = Date.now()
  const byAgency = new Map<string, Directory['resources']>()
  for (const [owner, r] of raw.resources) {
    const agency = AGENCIES[owner % AGENCIES.length] as string
    const list = byAgency.get(agency) ?? []
    const id = `${agency}:${r.name}`
    if (list.some(x => x.id === id)) continue
    list.push({
      id,
      name: r.name,
      description: 'generated',
      classification: 'departmental',
      securityLevel: r.level,
      sharing: r.sharing === 'conditional' ? { type: 'conditional', conditions: 'generated' } : { type: r.sharing },
      items: r.items.map((name: string) => ({ name, type: 'string' })),
      ...(r.required === undefined ? {} : { query: [{ name: r.required, type: 'string', required: true }] }),
      endpoint: { url: (agency === 'tj.hrss' ? h.hrss.url : h.psb.url) + '/' + r.name }
    })
    byAgency.set(agency, list)
  }
  const directories: Directory[] = [...byAgency].map(([agency, resources]) => ({ agency, version, resources }))
  const shareable = directories.flatMap(d => d.resources).filter(r => r.sharing.type !== 'none')
  const grants: Grant[] = []
  const seen = new Set<string>()
  for (const g of raw.grants) {
    if (shareable.length === 0) break
    const resource = shareable[g.resourcePick % shareable.length] as Directory['resources'][number]
    if (resource.id.startsWith(g.consumer + ':')) continue
    const purposes = g.purposes.filter(p => !seen.has(`${g.consumer}|${resource.id}|${p}`))
    if (purposes.length === 0) continue
    for (const p of purposes) seen.add(`${g.consumer}|${resource.id}|${p}`)
    const fields = [...new Set(g.fieldsPick.map(i => resource.items[i % resource.items.length]?.name as string))]
    const window = g.when === 'plan' ? {} : g.when === 'now' ? { validFrom: iso(now - DAY), validUntil: iso(now + DAY) } : g.when === 'past' ? { validFrom: iso(now - 3 * DAY), validUntil: iso(now - 2 * DAY) } : { validFrom: iso(now + 2 * DAY), validUntil: iso(now + 3 * DAY) }
    const conditions = g.requireCaseRef || g.requireUserId ? { conditions: { ...(g.requireCaseRef ? { requireCaseRef: true } : {}), ...(g.requireUserId ? { requireUserId: true } : {}) } } : {}
    grants.push({ id: `g${grants.length}`, consumer: g.consumer, resource: resource.id, fields, purposes, ...conditions, ...window })
  }
  const plan: Plan = { id: 'prop-plan', version, title: 'generated', validFrom: iso(now - 10 * DAY), validUntil: iso(now + 10 * DAY), grants }
  return { directories, plan }
}

t.test('the gateway allows exactly what the reference allows', async t => {
  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID })
  t.teardown(async () => { await stores.close() })
  const h = await harness(t, { stores, activate: false })
  const auth = tokenCache()
  const actorOf = (id: string): Harness['actors']['mca'] => id === 'tj.psb' ? h.actors.psb : id === 'tj.hrss' ? h.actors.hrss : h.actors.mca
  let version = 1
  let requests = 0
  let allowed = 0
  const codes = new Map<string, number>()

  const world = fc.record({
    resources: fc.array(fc.tuple(fc.nat(), resourceArb), { minLength: 1, maxLength: 6 }),
    grants: fc.array(grantArb, { minLength: 1, maxLength: 8 }),
    requests: fc.array(requestArb, { minLength: 5, maxLength: 15 })
  })

  await fc.assert(fc.asyncProperty(world, async raw => {
    version++
    const { directories, plan } = build(h, raw, version)
    // Every agency's directory replaced (an empty one for agencies without resources), then the plan activated.
    for (const agency of AGENCIES) {
      const directory = directories.find(d => d.agency === agency)
      if (directory === undefined) {
        // An agency with nothing to offer: take its resources out of the catalog with a directory of one unshared resource.
        const empty: Directory = { agency, version, resources: [{ id: `${agency}:none`, name: 'none', description: 'x', classification: 'departmental', securityLevel: 'public', sharing: { type: 'none' }, items: [{ name: 'name', type: 'string' }], endpoint: { url: h.psb.url + '/none' } }] }
        directories.push(empty)
      }
      const doc = directories.find(d => d.agency === agency) as Directory
      const put = await h.app.inject({ method: 'PUT', url: `/v1/directories/${agency}`, headers: auth(h.actors.operator), payload: doc })
      if (put.statusCode !== 200) throw new Error(`directory refused: ${put.body}`)
    }
    const created = await h.app.inject({ method: 'POST', url: '/v1/plans', headers: auth(h.actors.operator), payload: plan })
    if (created.statusCode !== 201) throw new Error(`plan refused: ${created.body}\n${JSON.stringify(plan)}`)
    const { digest } = created.json() as { digest: string }
    const approved = await h.app.inject({ method: 'POST', url: '/v1/plans/prop-plan/approve', headers: auth(h.actors.approver), payload: { signature: signApproval(digest, h.actors.approver.privateJwk) } })
    if (approved.statusCode !== 200) throw new Error(`approval refused: ${approved.body}`)
    const activated = await h.app.inject({ method: 'POST', url: '/v1/plans/prop-plan/activate', headers: auth(h.actors.operator) })
    if (activated.statusCode !== 200) throw new Error(`activation refused: ${activated.body}`)

    const ids = [...directories.flatMap(d => d.resources.map(r => r.id)), 'tj.psb:missing']
    for (const r of raw.requests) {
      requests++
      // Half the requests follow a grant so that allowed answers are common.
      const grant = r.fromGrant === undefined || plan.grants.length === 0 ? undefined : plan.grants[r.fromGrant % plan.grants.length]
      const consumer = grant?.consumer ?? r.consumer
      const resource = grant?.resource ?? ids[r.resourcePick % ids.length] as string
      const purpose = grant?.purposes[0] ?? r.purpose
      const envelope: Record<string, unknown> = { id: randomUUID(), purpose }
      if (r.fields !== undefined) envelope.fields = grant === undefined ? r.fields : r.fields.filter(f => grant.fields.includes(f)).concat(r.fields.length > 2 ? [r.fields[0] as string] : []).filter((f, i, a) => a.indexOf(f) === i)
      if ((envelope.fields as string[] | undefined)?.length === 0) delete envelope.fields
      if (r.userId !== undefined && r.userId !== '') envelope.userId = r.userId
      if (r.caseRef !== undefined && r.caseRef !== '') envelope.caseRef = r.caseRef
      if (r.query !== undefined) envelope.query = r.query
      const res = await h.app.inject({ method: 'POST', url: '/v1/exchange/' + resource, headers: auth(actorOf(consumer)), payload: envelope })
      const bad = injectedAnswer(res)
      if (bad !== null) throw new Error(bad)
      const expected = referenceDecision(directories, plan, 'extranet', { consumer, resource, purpose, fields: envelope.fields as string[] | undefined, userId: envelope.userId, caseRef: envelope.caseRef, query: envelope.query as Record<string, unknown> | undefined }, Date.now())
      const got = res.statusCode === 200 ? null : (res.json() as { code: string }).code
      codes.set(got ?? 'allowed', (codes.get(got ?? 'allowed') ?? 0) + 1)
      if (got !== expected.code) throw new Error(`gateway answered ${got ?? '200'}, the reference says ${expected.code ?? 'allow'}\nrequest ${consumer} → ${resource} ${JSON.stringify(envelope)}\nplan ${JSON.stringify(plan.grants)}\nanswer ${res.body}`)
      if (res.statusCode === 200) {
        allowed++
        const answer = res.json() as { grantId: string, fields: string[], data: Record<string, unknown> }
        if (answer.grantId !== expected.grantId) throw new Error(`allowed under ${answer.grantId}, the reference says ${expected.grantId ?? ''}`)
        for (const key of Object.keys(answer.data ?? {})) if (!(expected.fields ?? []).includes(key)) throw new Error(`answer carries ungranted field ${key}`)
      }
    }
  }), { numRuns: runs(30, 800) })

  t.ok(allowed > 0, `${allowed} of ${requests} requests allowed`)
  t.ok(codes.size >= 4, 'the runs met several refusal codes: ' + JSON.stringify(Object.fromEntries(codes)))
  t.equal((await stores.audit.verify()).ok, true, 'the audit chain verifies')
  report({ name: 'authorization property', cases: requests, allowed, codes: Object.fromEntries(codes) })
})
