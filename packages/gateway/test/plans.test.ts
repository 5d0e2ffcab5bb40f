// Plans through the gateway: draft, digest, approve (good and bad signatures),
// activate (superseding the previous plan atomically), revoke; conflicts;
// validation; admin audit records.
import t from 'tap'
import { digestOf, generateKeyPair, planDocument, signApproval } from '@govex/core'
import { harness, envelope, exchange, auditRecords, expectOk, activatePlan } from './helpers/gateway.js'
import { samplePlan } from './helpers/deployment.js'

type State = Record<string, unknown> & { status: string, version: number, digest: string, approvals: unknown[], activatedAt: string | null }

t.test('the lifecycle, step by step', async t => {
  const h = await harness(t, { activate: false })
  const { operator, approver, auditor, mca } = h.actors
  const plan = samplePlan()

  const created = expectOk(await h.app.inject({ method: 'POST', url: '/v1/plans', headers: operator.auth(), payload: plan }), 201) as State
  t.match(created, { ...plan, status: 'draft', approvals: [], activatedAt: null })
  t.equal(created.digest, digestOf(plan))
  t.same(planDocument(created as never), plan, 'stored exactly as submitted')
  t.match((await auditRecords(h)).at(-1), { kind: 'admin', action: 'plan.create', target: 'tj-sharing-plan@1', digest: created.digest, status: 201, outcome: 'allowed' })

  let res = await h.app.inject({ method: 'POST', url: '/v1/plans', headers: operator.auth(), payload: plan })
  t.equal(res.statusCode, 409, 'the same (id, version) again')
  t.equal(res.json().code, 'GOVEX_ERR_CONFLICT')

  for (const who of [operator, approver, auditor]) {
    t.same(expectOk(await h.app.inject({ method: 'GET', url: '/v1/plans/tj-sharing-plan', headers: who.auth() })), created)
  }
  t.same((expectOk(await h.app.inject({ method: 'GET', url: '/v1/plans', headers: auditor.auth() })) as { plans: State[] }).plans, [created])
  const { digest } = expectOk(await h.app.inject({ method: 'GET', url: '/v1/plans/tj-sharing-plan/digest', headers: approver.auth() })) as { digest: string }
  t.equal(digest, created.digest)

  res = await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/activate', headers: operator.auth() })
  t.equal(res.statusCode, 409, 'a draft cannot be activated')

  // A bad signature: refused with 422, audited, the plan stays a draft.
  const stranger = generateKeyPair(approver.publicJwk.kid)
  res = await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/approve', headers: approver.auth(), payload: { signature: signApproval(digest, stranger.privateJwk) } })
  t.equal(res.statusCode, 422)
  t.equal(res.json().code, 'GOVEX_ERR_BAD_SIGNATURE')
  t.same(res.json().problems.map((p: { path: string }) => p.path), ['/signature'])
  res = await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/approve', headers: approver.auth(), payload: { signature: signApproval(digestOf({ other: 1 }), approver.privateJwk) } })
  t.equal(res.statusCode, 422, 'a signature over another digest')
  res = await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/approve', headers: approver.auth(), payload: { signature: 'not a jws' } })
  t.equal(res.statusCode, 422)
  res = await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/approve', headers: approver.auth(), payload: {} })
  t.equal(res.statusCode, 400, 'no signature')
  t.match((await auditRecords(h)).at(-2), { action: 'plan.approve', outcome: 'denied', code: 'GOVEX_ERR_BAD_SIGNATURE', status: 422, target: 'tj-sharing-plan@1', digest: null })
  t.equal((expectOk(await h.app.inject({ method: 'GET', url: '/v1/plans/tj-sharing-plan', headers: auditor.auth() })) as State).status, 'draft')

  const approved = expectOk(await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/approve', headers: approver.auth(), payload: { signature: signApproval(digest, approver.privateJwk) } })) as State
  t.equal(approved.status, 'approved')
  t.match(approved.approvals, [{ approver: 'tj.gov', kid: approver.publicJwk.kid }])
  res = await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/approve', headers: approver.auth(), payload: { signature: signApproval(digest, approver.privateJwk) } })
  t.equal(res.statusCode, 409, 'no draft left to approve')

  t.equal((await exchange(h, 'tj.psb:household-registration', envelope())).json().code, 'GOVEX_ERR_NO_GRANT', 'approved is not active')
  const active = expectOk(await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/activate', headers: operator.auth() })) as State
  t.equal(active.status, 'active')
  t.type(active.activatedAt, 'string')
  t.equal((await exchange(h, 'tj.psb:household-registration', envelope())).statusCode, 200, 'live at once')
  t.same((await auditRecords(h)).filter(r => r.kind === 'admin').slice(-3).map(r => [r.action, r.outcome, r.target]), [['plan.approve', 'allowed', 'tj-sharing-plan@1'], ['plan.approve', 'denied', 'tj-sharing-plan'], ['plan.activate', 'allowed', 'tj-sharing-plan@1']])

  // Version 2 supersedes version 1 atomically on activation.
  const v2 = samplePlan(2, { grants: samplePlan().grants.filter(g => g.id !== 'mca-household') })
  await activatePlan(h, v2)
  const v1 = expectOk(await h.app.inject({ method: 'GET', url: '/v1/plans/tj-sharing-plan?version=1', headers: auditor.auth() })) as State
  t.equal(v1.status, 'superseded')
  t.type(v1.supersededAt, 'string')
  t.equal((expectOk(await h.app.inject({ method: 'GET', url: '/v1/plans/tj-sharing-plan', headers: auditor.auth() })) as State).version, 2, 'latest version')
  const denied = await exchange(h, 'tj.psb:household-registration', envelope())
  t.equal(denied.json().code, 'GOVEX_ERR_NO_GRANT', 'the removed grant is gone (only an expired one remains)')
  t.equal((await h.app.inject({ method: 'GET', url: '/v1/plans/tj-sharing-plan?version=9', headers: auditor.auth() })).statusCode, 404)
  t.equal((await h.app.inject({ method: 'GET', url: '/v1/plans/tj-sharing-plan?version=zero', headers: auditor.auth() })).statusCode, 400)
  t.equal((await h.app.inject({ method: 'GET', url: '/v1/plans/nope', headers: auditor.auth() })).statusCode, 404)

  // Revoke: exchanges stop at once.
  const revoked = expectOk(await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/revoke', headers: operator.auth() })) as State
  t.match(revoked, { version: 2, status: 'revoked' })
  t.equal((await exchange(h, 'tj.hrss:social-insurance', envelope())).json().code, 'GOVEX_ERR_NO_GRANT')
  res = await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/revoke', headers: operator.auth(), query: { version: '1' } })
  t.equal(res.statusCode, 409, 'a superseded plan cannot be revoked')
  t.match((await auditRecords(h)).at(-1), { action: 'plan.revoke', outcome: 'denied', code: 'GOVEX_ERR_CONFLICT', target: 'tj-sharing-plan@1' })
  t.equal((await h.app.inject({ method: 'POST', url: '/v1/plans/nope/revoke', headers: operator.auth() })).statusCode, 404)
  t.equal((await h.app.inject({ method: 'POST', url: '/v1/plans/nope/activate', headers: operator.auth() })).statusCode, 404)
  t.equal((await h.app.inject({ method: 'POST', url: '/v1/plans/nope/approve', headers: approver.auth(), payload: { signature: 'a..b' } })).statusCode, 404)
  t.equal(mca.id, 'tj.mca')
})

t.test('lifecycle steps find the version they need below the latest one', async t => {
  const h = await harness(t, { activate: false })
  const { operator, approver } = h.actors
  const create = async (version: number): Promise<State> =>
    expectOk(await h.app.inject({ method: 'POST', url: '/v1/plans', headers: operator.auth(), payload: samplePlan(version) }), 201) as State
  const approve = async (): Promise<State> => {
    return expectOk(await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/approve', headers: approver.auth(), payload: { signature: signApproval(draftDigest, approver.privateJwk) } })) as State
  }
  let draftDigest = (await create(1)).digest
  t.equal((await approve()).version, 1)
  // Versions 3, 5 and 7 on top (gaps in between): v1 stays the one approved version.
  for (const version of [3, 5, 7]) await create(version)
  let res = await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/activate', headers: operator.auth() })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.match(res.json(), { version: 1, status: 'active' }, 'activate found v1 under three drafts')
  t.same(res.json(), expectOk(await h.app.inject({ method: 'GET', url: '/v1/plans/tj-sharing-plan?version=1', headers: operator.auth() })), 'the answer is the stored state')
  // The highest draft is the one approved.
  draftDigest = (expectOk(await h.app.inject({ method: 'GET', url: '/v1/plans/tj-sharing-plan/digest', headers: approver.auth() })) as { digest: string }).digest
  t.equal((await approve()).version, 7)
  // Many drafts on top: the store (PlanStore.latestWith) still finds v7.
  for (let version = 8; version <= 30; version++) await create(version)
  res = await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/activate', headers: operator.auth() })
  t.match(res.json(), { version: 7, status: 'active' })
  // Revoke without a version picks the active one, not the latest draft.
  res = await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/revoke', headers: operator.auth() })
  t.match(res.json(), { version: 7, status: 'revoked' })
  t.equal((expectOk(await h.app.inject({ method: 'GET', url: '/v1/plans/tj-sharing-plan?version=1', headers: operator.auth() })) as State).status, 'superseded')
  res = await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/activate', headers: operator.auth() })
  t.equal(res.statusCode, 409, 'nothing approved is left')
})

t.test('approve and activate take ?version=N (PROTOCOL.md), which must be a draft / approved', async t => {
  const h = await harness(t, { activate: false })
  const { operator, approver } = h.actors
  const url = (step: string, query = ''): string => `/v1/plans/tj-sharing-plan/${step}${query}`
  const digests: Record<number, string> = {}
  for (const version of [1, 2]) digests[version] = (expectOk(await h.app.inject({ method: 'POST', url: '/v1/plans', headers: operator.auth(), payload: samplePlan(version) }), 201) as State).digest
  const approve = async (version: number, query: string) => await h.app.inject({ method: 'POST', url: url('approve', query), headers: approver.auth(), payload: { signature: signApproval(digests[version] as string, approver.privateJwk) } })
  let res = await approve(1, '?version=1')
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { version: 1, status: 'approved' }, 'v1 approved although v2 is the latest draft')
  res = await approve(1, '?version=1')
  t.equal(res.statusCode, 409)
  t.match(res.json().message, /plan tj-sharing-plan version 1 is approved, it cannot become approved/)
  t.equal((await approve(1, '?version=9')).statusCode, 404)
  t.equal((await approve(1, '?version=one')).statusCode, 400)
  res = await h.app.inject({ method: 'POST', url: url('activate', '?version=2'), headers: operator.auth() })
  t.equal(res.statusCode, 409, 'a draft cannot be activated')
  t.equal(res.json().code, 'GOVEX_ERR_CONFLICT')
  res = await h.app.inject({ method: 'POST', url: url('activate', '?version=1'), headers: operator.auth() })
  t.match(res.json(), { version: 1, status: 'active' })
  const admin = (await auditRecords(h)).filter(r => r.kind === 'admin' && String(r.action).startsWith('plan.'))
  t.same(admin.slice(-6).map(r => [r.action, r.target, r.status]), [
    ['plan.approve', 'tj-sharing-plan@1', 200], ['plan.approve', 'tj-sharing-plan@1', 409], ['plan.approve', 'tj-sharing-plan', 404],
    ['plan.approve', 'tj-sharing-plan', 400], ['plan.activate', 'tj-sharing-plan@2', 409], ['plan.activate', 'tj-sharing-plan@1', 200]
  ], 'each step audited with the version it acted on')
})

t.test('plan validation: 400 for the schema, 422 for MODEL.md rules', async t => {
  const h = await harness(t, { activate: false })
  const op = h.actors.operator.auth()
  let res = await h.app.inject({ method: 'POST', url: '/v1/plans', headers: op, payload: { ...samplePlan(), grants: 'all' } })
  t.equal(res.statusCode, 400)
  t.match((await auditRecords(h)).at(-1), { action: 'plan.create', target: 'tj-sharing-plan@1', outcome: 'denied', status: 400 })
  // The handler checks only the rules: the route's schema must have refused anything else.
  for (const payload of ['', 'null', '[]', '"plan"', JSON.stringify({ ...samplePlan(), grants: [{ id: 'g' }] })]) {
    res = await h.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...op, 'content-type': 'application/json' }, payload })
    t.equal(res.statusCode, 400, `schema refuses ${payload.slice(0, 40)}`)
  }
  t.match((await auditRecords(h)).at(-2), { action: 'plan.create', target: null, status: 400 }, 'no plan id in the body: the target is null, not ""')
  const bad = samplePlan(1, {
    grants: [
      { id: 'g1', consumer: 'tj.psb', resource: 'tj.psb:household-registration', fields: ['name'], purposes: ['p'] },
      { id: 'g2', consumer: 'tj.mca', resource: 'tj.psb:nothing', fields: ['name'], purposes: ['p'] },
      { id: 'g3', consumer: 'tj.mca', resource: 'tj.psb:household-registration', fields: ['shoeSize'], purposes: ['p'] },
      { id: 'g3', consumer: 'tj.gov', resource: 'tj.psb:household-registration', fields: ['name'], purposes: ['q'] }
    ]
  })
  res = await h.app.inject({ method: 'POST', url: '/v1/plans', headers: op, payload: bad })
  t.equal(res.statusCode, 422)
  t.equal(res.json().code, 'GOVEX_ERR_INVALID_DOCUMENT')
  const codes = res.json().problems.map((p: { code: string }) => p.code)
  for (const code of ['consumer-is-provider', 'unknown-resource', 'unknown-field', 'duplicate-grant-id', 'consumer-not-agency']) t.ok(codes.includes(code), code)
  t.equal((await h.app.inject({ method: 'GET', url: '/v1/plans', headers: op })).json().plans.length, 0, 'nothing stored')
})

t.test('a large plan (a body over 1 MiB, more than 1,000 grants: parsed, checked, digested and stored in turns of the event loop): like any other', async t => {
  const h = await harness(t, { activate: false, config: raw => { raw.limits = { ...(raw.limits as object), bodyBytes: 8 * 1024 * 1024 } } })
  const { operator, approver, mca } = h.actors
  const base = samplePlan()
  const many = Array.from({ length: 9000 }, (_, i) => ({ id: `bulk-${i}`, consumer: 'tj.mca', resource: 'tj.psb:household-registration', fields: ['name'], purposes: [`bulk-purpose-${i}`], legalBasis: 'Tianjin Minimum Living Guarantee Measures, Art. 12' }))
  const plan = { ...base, grants: [...base.grants, ...many] }
  const payload = JSON.stringify(plan)
  t.ok(payload.length > 1024 * 1024, `the body is ${payload.length} bytes`)
  // (how long the event loop is held is measured by bench/scale, not here)
  const created = await h.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...operator.auth(), 'content-type': 'application/json' }, payload })
  const state = expectOk(created, 201) as State
  t.equal(state.digest, digestOf(plan))
  t.same(planDocument(state as never), plan, 'stored exactly as submitted')
  t.equal(created.body, JSON.stringify(expectOk(await h.app.inject({ method: 'GET', url: '/v1/plans/tj-sharing-plan', headers: operator.auth() })) as State), 'answered with the stored state')
  // a large body that JSON can parse but no digest can hold is refused, as a small one is
  const odd = await h.app.inject({ method: 'POST', url: '/v1/plans', headers: { ...operator.auth(), 'content-type': 'application/json' }, payload: payload.replace('"Test sharing', '"\\ud800 sharing') })
  t.equal(odd.statusCode, 400)
  t.match(odd.json(), { code: 'GOVEX_ERR_BAD_REQUEST', problems: [{ code: 'unrepresentable' }] })
  // A plan over the rules is refused whatever its size.
  const broken = { ...plan, version: 2, grants: [...plan.grants, { ...many[0], id: 'bulk-dup' }] }
  const refused = await h.app.inject({ method: 'POST', url: '/v1/plans', headers: operator.auth(), payload: broken })
  t.equal(refused.statusCode, 422)
  t.match(refused.json().problems, [{ code: 'duplicate-grant' }])
  expectOk(await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/approve', headers: approver.auth(), payload: { signature: signApproval(state.digest, approver.privateJwk) } }))
  const active = expectOk(await h.app.inject({ method: 'POST', url: '/v1/plans/tj-sharing-plan/activate', headers: operator.auth() })) as State
  t.equal(active.status, 'active')
  const mine = expectOk(await h.app.inject({ method: 'GET', url: '/v1/grants/mine', headers: mca.auth() })) as { grants: unknown[] }
  t.ok(mine.grants.length >= 9000, 'the index holds the large plan')
})
