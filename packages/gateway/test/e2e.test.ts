// End to end on real sockets: the gateway listening on a port, two provider
// servers, and the whole story of PROTOCOL.md through HTTP — bootstrap members,
// directories, a draft plan, its digest, approvals (a bad one refused), activation,
// an allowed exchange with minimised data, each denial, revocation; then the
// gateway is stopped and started again on the same data folder, and the plan
// state, directories and audit chain are all there and verify.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, publicKeyFromJwk, signApproval, verifyJwt } from '@govex/core'
import { startGateway, loadConfig } from '../src/index.js'
import type { RunningGateway } from '../src/index.js'
import { createDeployment, psbDirectory, hrssDirectory, samplePlan, PURPOSE, GATEWAY_ID } from './helpers/deployment.js'
import { envelope } from './helpers/gateway.js'
import { answerData } from './helpers/provider.js'

t.test('the whole story, then a restart on the same data', async t => {
  const d = await createDeployment()
  t.teardown(() => d.cleanup())
  // Bootstrap members only: agencies submit their own directories.
  await writeFile(d.configFile, JSON.stringify({ ...d.raw, bootstrap: { members: './seed/members.json' } }))
  const config = await loadConfig(d.configFile, { GOVEX_PORT: '0', GOVEX_LOG__LEVEL: 'silent' })
  const { operator, approver, auditor, psb, mca, hrss } = d.actors

  let gw: RunningGateway = await startGateway(config, { signals: false })
  t.teardown(() => gw.close())
  t.match(gw.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number, json: any, headers: Headers }> => {
    const res = await fetch(gw.url + path, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.text()
    return { status: res.status, json: text === '' ? null : JSON.parse(text), headers: res.headers }
  }

  t.equal((await call('GET', '/readyz', {})).status, 200)
  t.equal((await call('GET', '/v1/members', operator.auth())).json.members.length, 7, 'members bootstrapped')
  t.equal((await call('GET', '/v1/catalog', mca.auth())).json.resources.length, 0, 'no directories yet')

  t.same((await call('PUT', '/v1/directories/tj.psb', psb.auth(), psbDirectory(d.psb.url))).json, { agency: 'tj.psb', version: 1 })
  t.same((await call('PUT', '/v1/directories/tj.hrss', hrss.auth(), hrssDirectory(d.hrss.url))).json, { agency: 'tj.hrss', version: 1 })
  t.equal((await call('GET', '/v1/catalog', mca.auth())).json.resources.length, 4)

  const plan = samplePlan()
  const draft = await call('POST', '/v1/plans', operator.auth(), plan)
  t.equal(draft.status, 201)
  t.equal(draft.json.status, 'draft')
  const { digest } = (await call('GET', '/v1/plans/tj-sharing-plan/digest', approver.auth())).json
  t.equal(digest, draft.json.digest)
  const forged = await call('POST', '/v1/plans/tj-sharing-plan/approve', approver.auth(), { signature: signApproval(digest, generateKeyPair(approver.publicJwk.kid).privateJwk) })
  t.equal(forged.status, 422)
  t.equal(forged.json.code, 'GOVEX_ERR_BAD_SIGNATURE')
  t.equal((await call('POST', '/v1/plans/tj-sharing-plan/activate', operator.auth())).json.code, 'GOVEX_ERR_CONFLICT', 'not approved yet')
  t.equal((await call('POST', '/v1/plans/tj-sharing-plan/approve', approver.auth(), { signature: signApproval(digest, approver.privateJwk) })).json.status, 'approved')
  t.equal((await call('POST', '/v1/plans/tj-sharing-plan/activate', operator.auth())).json.status, 'active')

  // The allowed exchange, minimised; the provider verifies the gateway's call.
  d.psb.behave((received, res) => {
    const token = String(received.headers.authorization).slice(7)
    const check = verifyJwt(token, () => publicKeyFromJwk(d.actors.gateway.publicJwk), { audience: 'tj.psb', issuer: GATEWAY_ID, maxTtlS: 60 })
    if (!check.ok) { res.writeHead(401); res.end(); return }
    answerData({ name: 'Zhang San', householdAddress: 'Heping District', idNumber: '120101199001011234' })(received, res, undefined as never)
  })
  const body = envelope()
  const allowed = await call('POST', '/v1/exchange/tj.psb:household-registration', mca.auth(), body)
  t.equal(allowed.status, 200, JSON.stringify(allowed.json))
  t.same(allowed.json.data, { name: 'Zhang San', householdAddress: 'Heping District' })
  t.equal(allowed.headers.get('x-request-id'), body.id)

  // Each denial, over the wire.
  const denials: Array<[string, Record<string, unknown>, Record<string, string>, number, string]> = [
    ['tj.psb:household-registration', envelope(), {}, 401, 'GOVEX_ERR_UNAUTHENTICATED'],
    ['tj.psb:household-registration', envelope(), operator.auth(), 403, 'GOVEX_ERR_FORBIDDEN_ROLE'],
    ['tj.psb:household-registration', { ...envelope(), purpose: 7 }, mca.auth(), 400, 'GOVEX_ERR_BAD_REQUEST'],
    ['tj.psb:missing', envelope(), mca.auth(), 404, 'GOVEX_ERR_NOT_FOUND'],
    ['tj.psb:case-files', envelope(), mca.auth(), 403, 'GOVEX_ERR_ZONE'],
    ['tj.psb:household-registration', envelope(), hrss.auth(), 403, 'GOVEX_ERR_NO_GRANT'],
    ['tj.psb:household-registration', envelope({ purpose: 'curiosity' }), mca.auth(), 403, 'GOVEX_ERR_PURPOSE_NOT_GRANTED'],
    ['tj.psb:household-registration', envelope({ fields: ['idNumber'] }), mca.auth(), 403, 'GOVEX_ERR_FIELDS_NOT_GRANTED'],
    ['tj.psb:household-registration', envelope({ caseRef: undefined }), mca.auth(), 403, 'GOVEX_ERR_CONDITION_UNMET'],
    ['tj.psb:household-registration', envelope({ query: {} }), mca.auth(), 400, 'GOVEX_ERR_BAD_REQUEST'],
    ['tj.psb:household-registration', body, mca.auth(), 409, 'GOVEX_ERR_REPLAY']
  ]
  for (const [resource, envelopeBody, headers, status, code] of denials) {
    const res = await call('POST', '/v1/exchange/' + resource, headers, envelopeBody)
    t.equal(res.status, status, code)
    t.equal(res.json.code, code)
  }
  d.hrss.behave(answerData({ contributionStatus: 'paid' }))
  await call('POST', '/v1/exchange/tj.hrss:social-insurance', mca.auth(), envelope())
  await call('POST', '/v1/exchange/tj.hrss:social-insurance', mca.auth(), envelope())
  const quota = await call('POST', '/v1/exchange/tj.hrss:social-insurance', mca.auth(), envelope())
  t.equal(quota.status, 429)
  t.ok(Number(quota.headers.get('retry-after')) >= 1)

  t.equal((await call('POST', '/v1/plans/tj-sharing-plan/revoke', operator.auth())).json.status, 'revoked')
  const afterRevoke = await call('POST', '/v1/exchange/tj.psb:household-registration', mca.auth(), envelope())
  t.equal(afterRevoke.json.code, 'GOVEX_ERR_NO_GRANT', 'exchanges stop at once')

  const before = (await call('GET', '/v1/audit?limit=1000', auditor.auth())).json.records
  t.ok(before.length > 20)
  t.same((await call('GET', '/v1/audit/verify', auditor.auth())).json, { ok: true, checked: before.length })

  // Stop, and start again on the same folder.
  await gw.close()
  gw = await startGateway(config, { signals: false })
  t.equal((await call('GET', '/readyz', {})).status, 200)
  const state = (await call('GET', '/v1/plans/tj-sharing-plan', auditor.auth())).json
  t.match(state, { status: 'revoked', version: 1, approvals: [{ approver: 'tj.gov' }] })
  t.equal((await call('GET', '/v1/directories/tj.psb', psb.auth())).json.version, 1)
  t.equal((await call('GET', '/v1/directories/tj.hrss', auditor.auth())).json.resources.length, 1)
  t.equal((await call('GET', '/v1/members', operator.auth())).json.members.length, 7, 'not bootstrapped twice')
  const after = (await call('GET', '/v1/audit?limit=1000', auditor.auth())).json.records
  t.same(after.slice(0, before.length), before, 'the chain survived')
  t.same((await call('GET', '/v1/audit/verify', auditor.auth())).json, { ok: true, checked: after.length })
  t.equal((await call('POST', '/v1/exchange/tj.psb:household-registration', mca.auth(), envelope())).json.code, 'GOVEX_ERR_NO_GRANT')

  // A new version, approved and activated, works after the restart; the chain continues.
  const v2 = samplePlan(2)
  t.equal((await call('POST', '/v1/plans', operator.auth(), v2)).status, 201)
  const digest2 = (await call('GET', '/v1/plans/tj-sharing-plan/digest', approver.auth())).json.digest
  await call('POST', '/v1/plans/tj-sharing-plan/approve', approver.auth(), { signature: signApproval(digest2, approver.privateJwk) })
  t.equal((await call('POST', '/v1/plans/tj-sharing-plan/activate', operator.auth())).json.status, 'active')
  const again = await call('POST', '/v1/exchange/tj.psb:household-registration', mca.auth(), envelope({ purpose: PURPOSE }))
  t.equal(again.status, 200)
  // After the restart: one refused exchange, plan.create, plan.approve, plan.activate, then this one.
  t.equal(again.json.auditSeq, after.at(-1).seq + 5, 'seq continues without a gap')
  const log = await readFile(join(config.store.kind === 'file' ? config.store.dir : '', 'audit', GATEWAY_ID + '.jsonl'), 'utf8')
  t.equal(log.trim().split('\n').length, again.json.auditSeq, 'one line per record in <store.dir>/audit/<gatewayId>.jsonl')
})
