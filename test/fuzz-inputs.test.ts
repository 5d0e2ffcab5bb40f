// Generated bad input against the whole gateway (through inject): the exchange
// envelope, every document type (member, directory, plan, disclosure), raw
// mutated JSON text, and every route's params and query. Whatever arrives, the
// answer is a 2xx/3xx or a coded 4xx — never a 5xx, never a crash, never an
// allowed exchange the plan does not grant, never a polluted prototype — and
// every exchange request that reached its route left exactly one audit record.
import t from 'tap'
import fc from 'fast-check'
import { openMemoryStores } from '@govex/core'
import type { AuditLog, Directory } from '@govex/core'
import { harness, envelope } from '../packages/gateway/test/helpers/gateway.js'
import type { Harness } from '../packages/gateway/test/helpers/gateway.js'
import { GATEWAY_ID, PURPOSE, disclosure, hrssDirectory, psbDirectory, samplePlan } from '../packages/gateway/test/helpers/deployment.js'
import { edit, encodeSegment, mutate, mutateText, textEdit, weirdString, weirdValue } from './helpers/fuzz.js'
import { injectedAnswer, prototypeClean, report, runs, tokenCache } from './helpers/answers.js'
import { referenceDecision } from './helpers/reference.js'

const RESOURCES = ['tj.psb:household-registration', 'tj.psb:residents-by-street', 'tj.psb:case-files', 'tj.hrss:social-insurance', 'tj.mca:nothing', 'tj.psb:unknown']
const PURPOSES = [PURPOSE, 'street-survey', 'old-review', 'other-purpose']
const FIELDS = ['name', 'householdAddress', 'idNumber', 'birthDate', 'street', 'contributionStatus', 'employerName', 'summary']

let cases = 0

async function fuzzHarness (t: { teardown (fn: () => unknown): void }): Promise<Harness> {
  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID })
  t.teardown(async () => { await stores.close() })
  return await harness(t, { stores })
}

/** Every request id the exchange route answered, to find in the audit log afterwards. */
function routedExchange (body: string): boolean {
  // Answers from before routing (malformed URL, no such route) owe no record.
  return !body.includes('"no route ') && !body.includes('the URL is malformed') && !body.includes('longer than any legal id')
}

async function auditCounts (audit: AuditLog): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for await (const record of audit.scan({ kind: 'exchange' })) counts.set(record.id, (counts.get(record.id) ?? 0) + 1)
  return counts
}

t.test('exchange envelopes: generated and mutated', async t => {
  const stores = await openMemoryStores({ gatewayId: GATEWAY_ID })
  t.teardown(async () => { await stores.close() })
  const h = await harness(t, { stores })
  const auth = tokenCache()
  const directories: Directory[] = [psbDirectory(h.psb.url), hrssDirectory(h.hrss.url)]
  const plan = samplePlan()
  const sent = new Map<string, number>()

  const resourcePath = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...RESOURCES) },
    { weight: 1, arbitrary: weirdString.map(encodeSegment) },
    { weight: 1, arbitrary: fc.constantFrom('..%2F..%2Fv1%2Fmembers', '%2e%2e%2fmembers', 'tj.psb%3Ahousehold-registration', 'tj.psb:household-registration%00', 'tj.psb:household-registration%2F..', 'TJ.PSB:household-registration', '%ZZ', 'tj.psb:' + 'a'.repeat(300)) }
  )
  const validish = fc.record({
    purpose: fc.constantFrom(...PURPOSES),
    fields: fc.option(fc.uniqueArray(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: 4 }), { nil: undefined }),
    userId: fc.option(fc.oneof(fc.constant('officer-4711'), weirdString), { nil: undefined }),
    caseRef: fc.option(fc.oneof(fc.constant('MCA-2026-000123'), weirdString), { nil: undefined }),
    query: fc.option(fc.dictionary(fc.oneof(fc.constant('idNumber'), weirdString), weirdValue, { maxKeys: 3 }), { nil: undefined })
  })

  await fc.assert(fc.asyncProperty(resourcePath, validish, fc.array(edit, { maxLength: 3 }), fc.option(fc.array(textEdit, { minLength: 1, maxLength: 2 }), { nil: undefined }), fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonx'),
    async (resource, fieldsOf, edits, textEdits, contentType) => {
      cases++
      const base = envelope(fieldsOf)
      for (const k of Object.keys(base)) if (base[k] === undefined) delete base[k]
      const body = edits.length > 0 && textEdits === undefined ? mutate(base, edits) : base
      const text = JSON.stringify(body) ?? ''
      const payload = textEdits === undefined ? text : mutateText(text, textEdits)
      const res = await h.app.inject({ method: 'POST', url: '/v1/exchange/' + resource, headers: { ...auth(h.actors.mca), 'content-type': contentType }, payload })
      const bad = injectedAnswer(res)
      if (bad !== null) throw new Error(`${bad}\nresource ${resource}\nbody ${payload}`)
      if (!prototypeClean()) throw new Error('Object.prototype was polluted by ' + payload)
      if (routedExchange(res.body)) {
        const id = String(res.headers['x-request-id'])
        sent.set(id, (sent.get(id) ?? 0) + 1)
      }
      if (res.statusCode === 200) {
        // Allowed: the plan must grant exactly this, and the data hold nothing beyond the granted fields.
        const env = JSON.parse(payload) as Record<string, unknown>
        const expected = referenceDecision(directories, plan, 'extranet', {
          consumer: 'tj.mca', resource: decodeURIComponent(resource), purpose: env.purpose as string,
          fields: env.fields as string[] | undefined, userId: env.userId, caseRef: env.caseRef, query: env.query as Record<string, unknown> | undefined
        }, Date.now())
        if (!expected.allow) throw new Error(`allowed an exchange the plan does not grant (${expected.code ?? ''}): ${payload}`)
        const answer = res.json() as { fields: string[], data: Record<string, unknown> | null }
        for (const key of Object.keys(answer.data ?? {})) if (!(expected.fields ?? []).includes(key)) throw new Error(`answer carries ungranted field ${key}`)
      }
    }), { numRuns: runs(700, 40_000) })

  await h.app.close()
  const records = await auditCounts(stores.audit)
  let lost = 0
  for (const [id, n] of sent) if ((records.get(id) ?? 0) !== n) lost++
  t.equal(lost, 0, 'every routed exchange request left exactly one audit record')
  const verified = await stores.audit.verify()
  t.ok(verified.ok, 'the chain verifies')
  t.ok(prototypeClean(), 'Object.prototype untouched')
  report({ name: 'fuzz exchange', cases: sent.size, auditRecords: [...records.values()].reduce((a, b) => a + b, 0), lost })
})

t.test('documents: members, directories, plans, disclosures, mutated', async t => {
  const h = await fuzzHarness(t)
  const auth = tokenCache()
  let version = 10
  const targets = [
    { name: 'member', method: 'PUT' as const, url: () => '/v1/members/tj.fuzz', actor: () => h.actors.operator, doc: () => ({ id: 'tj.fuzz', name: 'Fuzz', roles: ['agency'], keys: [h.actors.mca.publicJwk], contact: { office: 'x', email: 'a@b.cn' } }) },
    { name: 'directory', method: 'PUT' as const, url: () => '/v1/directories/tj.hrss', actor: () => h.actors.hrss, doc: () => ({ ...hrssDirectory(h.hrss.url), version: ++version }) },
    { name: 'directory of another agency', method: 'PUT' as const, url: () => '/v1/directories/tj.psb', actor: () => h.actors.mca, doc: () => psbDirectory(h.psb.url) },
    { name: 'plan', method: 'POST' as const, url: () => '/v1/plans', actor: () => h.actors.operator, doc: () => samplePlan(++version) },
    { name: 'disclosure', method: 'PUT' as const, url: () => '/v1/disclosures/tj.psb', actor: () => h.actors.psb, doc: () => disclosure('tj.psb') },
    { name: 'approval', method: 'POST' as const, url: () => '/v1/plans/tj-sharing-plan/approve', actor: () => h.actors.approver, doc: () => ({ signature: 'eyJhbGciOiJFZERTQSJ9..c2ln' }) }
  ]
  await fc.assert(fc.asyncProperty(fc.nat({ max: targets.length - 1 }), fc.array(edit, { maxLength: 4 }), fc.option(fc.array(textEdit, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    async (which, edits, textEdits) => {
      cases++
      const target = targets[which] as typeof targets[number]
      const text = JSON.stringify(mutate(target.doc(), edits)) ?? 'null'
      const payload = textEdits === undefined ? text : mutateText(text, textEdits)
      const res = await h.app.inject({ method: target.method, url: target.url(), headers: { ...auth(target.actor()), 'content-type': 'application/json' }, payload })
      const bad = injectedAnswer(res)
      if (bad !== null) throw new Error(`${target.name}: ${bad}\nbody ${payload}`)
      if (!prototypeClean()) throw new Error('Object.prototype was polluted by ' + payload)
      if (target.name === 'directory of another agency' && res.statusCode !== 403) throw new Error(`an agency wrote another agency's directory: ${res.statusCode}`)
    }), { numRuns: runs(500, 30_000) })
  // The gateway still serves after all that, and its log still verifies.
  const ready = await h.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200, 'still ready')
  const verify = await h.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: h.actors.auditor.auth() })
  t.equal(verify.json().ok, true, 'the audit chain verifies')
  report({ name: 'fuzz documents', cases: runs(500, 30_000) })
})

t.test('every route: params, query strings, methods, headers', async t => {
  const h = await fuzzHarness(t)
  const auth = tokenCache()
  const segment = fc.oneof(weirdString.map(encodeSegment), weirdString.map(s => s.replace(/[?#]/g, '')), fc.constantFrom('tj.psb', 'tj-sharing-plan', 'tj.psb:household-registration', '..%2F..', '%2F', '%', '%C0%AF', '%ED%A0%80', '%00'))
  const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom('version', 'limit', 'cursor', 'from', 'to', 'consumer', 'provider', 'resource', 'outcome', 'kind', 'q', 'classification', 'by', '__proto__', 'constructor'), weirdString), weirdString), { maxLength: 4 })
    .map(pairs => pairs.map(([k, v]) => encodeSegment(k) + '=' + encodeSegment(v)).join('&'))
  const routes = [
    (s: string) => `/v1/catalog/${s}`, (s: string) => `/v1/members/${s}`, (s: string) => `/v1/directories/${s}`,
    (s: string) => `/v1/plans/${s}`, (s: string) => `/v1/plans/${s}/digest`, (s: string) => `/v1/plans/${s}/activate`, (s: string) => `/v1/plans/${s}/revoke`,
    (s: string) => `/public/disclosures/${s}`, () => '/v1/catalog', () => '/v1/audit', () => '/v1/audit/verify', () => '/v1/audit/stats', () => '/v1/audit/export',
    () => '/v1/grants/mine', () => '/v1/plans', () => '/v1/members', () => '/public/disclosures', () => '/healthz', () => '/readyz', (s: string) => `/${s}`
  ]
  const actors = [h.actors.operator, h.actors.auditor, h.actors.mca, h.actors.approver]
  await fc.assert(fc.asyncProperty(fc.nat({ max: routes.length - 1 }), segment, query, fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'), fc.nat({ max: actors.length }), fc.option(fc.dictionary(fc.constantFrom('accept', 'if-none-match', 'x-request-id', 'content-type', 'x-forwarded-for'), weirdString.map(s => s.replace(/[^\t\x20-\x7e]/g, ''))), { nil: undefined }),
    async (which, seg, qs, method, actorIndex, extra) => {
      cases++
      const url = (routes[which] as (s: string) => string)(seg) + (qs === '' ? '' : '?' + qs)
      const actor = actors[actorIndex]
      const headers = { ...(extra ?? {}), ...(actor === undefined ? {} : auth(actor)) }
      let res
      try {
        res = await h.app.inject({ method: method as 'GET', url, headers })
      } catch (err) {
        // light-my-request refuses some URLs itself ("/\\"); a real socket is tried in security.test.ts.
        if ((err as Error).message === 'Invalid URL') return
        throw err
      }
      const bad = method === 'HEAD' ? (res.statusCode >= 500 ? `HEAD answered ${res.statusCode}` : null) : injectedAnswer(res)
      if (bad !== null) throw new Error(`${method} ${url}: ${bad}`)
    }), { numRuns: runs(800, 30_000) })
  t.ok(prototypeClean(), 'Object.prototype untouched')
  report({ name: 'fuzz routes', cases: runs(800, 30_000) })
})

t.test('summary', async t => {
  t.ok(cases > 0, `${cases} generated cases`)
  report({ name: 'fuzz total', cases })
})
