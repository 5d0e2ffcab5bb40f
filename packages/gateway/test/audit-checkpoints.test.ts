// Issue 7 at the gateway: the chain carries checkpoints signed by the gateway
// key (config audit.checkpointEvery), verify checks them with the member
// registry's keys (whole log or a time range), stats group exchange records,
// and bad input is a 400 with a code; agencies never reach the audit API.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkpointSigner, generateKeyPair } from '@govex/core'
import { rewriteFrom } from '@govex/core/contract'
import { harness, envelope, exchange, expectOk } from './helpers/gateway.js'
import { GATEWAY_ID } from './helpers/deployment.js'

type Page = { records: Array<Record<string, unknown>>, nextCursor: string | null }

t.test('checkpoints, range verify, stats, bad input', async t => {
  const h = await harness(t, { config: raw => { raw.audit = { checkpointEvery: 3 } } })
  const auditor = h.actors.auditor.auth()
  const get = async (url: string, headers = auditor): Promise<unknown> => expectOk(await h.app.inject({ method: 'GET', url, headers }))
  for (let i = 0; i < 6; i++) await exchange(h, 'tj.psb:household-registration', envelope())
  await exchange(h, 'tj.psb:household-registration', envelope({ purpose: 'nope' }))

  const all = (await get('/v1/audit?limit=1000') as Page).records
  const checkpoints = (await get('/v1/audit?kind=checkpoint') as Page).records
  t.ok(checkpoints.length >= 3, 'a checkpoint every 3 seqs')
  t.match(checkpoints[0], { kind: 'checkpoint', gatewayId: GATEWAY_ID, seq: 4, kid: h.actors.gateway.privateJwk.kid, head: { seq: 3 } })
  t.notOk((await get('/v1/audit?kind=exchange') as Page).records.some(r => r.kind === 'checkpoint'))

  const verified = await get('/v1/audit/verify') as Record<string, unknown>
  t.same(verified, { ok: true, checked: all.length, checkpoints: checkpoints.length, lastCheckpoint: { [GATEWAY_ID]: checkpoints[checkpoints.length - 1]?.seq } })
  const exchanges = all.filter(r => r.kind === 'exchange')
  const from = exchanges[2]?.ts as string
  const ranged = await get(`/v1/audit/verify?from=${encodeURIComponent(from)}&to=2999-01-01T00:00:00Z`) as { ok: boolean, checked: number }
  t.equal(ranged.ok, true)
  t.ok(ranged.checked < all.length, 'a range starts at a checkpoint, not at seq 1')

  const stats = await get('/v1/audit/stats?by=consumer') as { by: string, total: number, groups: Array<{ key: string, count: number, allowed: number, denied: number, latencyMs: Record<string, number | null> }> }
  t.match(stats, { by: 'consumer', from: null, to: null, total: 7 })
  t.match(stats.groups, [{ key: 'tj.mca', count: 7, allowed: 6, denied: 1 }])
  t.type(stats.groups[0]?.latencyMs.p99, 'number')
  t.match(await get('/v1/audit/stats?by=outcome&from=2000-01-01', h.actors.operator.auth()), { by: 'outcome', total: 7 }, 'operators read stats too')
  t.match(await get('/v1/audit/stats?by=provider&from=2999-01-01T00:00:00Z'), { total: 0, groups: [] })
  t.same(await get('/v1/audit/stats'), stats, 'by defaults to consumer, as in govex audit stats')

  const bad = [
    '/v1/audit/stats?by=', '/v1/audit/stats?by=userId', '/v1/audit/stats?by=consumer&from=yesterday',
    '/v1/audit/stats?by=consumer&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', '/v1/audit/stats?by=consumer&colour=red',
    '/v1/audit/verify?from=soon', '/v1/audit/verify?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', '/v1/audit/verify?colour=red',
    '/v1/audit?kind=checkpoints', '/v1/audit?limit=99999999'
  ]
  for (const url of bad) {
    const res = await h.app.inject({ method: 'GET', url, headers: auditor })
    t.equal(res.statusCode, 400, url)
    t.equal(res.json().code, 'GOVEX_ERR_BAD_REQUEST', url)
  }
  for (const url of ['/v1/audit', '/v1/audit/verify', '/v1/audit/export', '/v1/audit/stats?by=consumer']) {
    const res = await h.app.inject({ method: 'GET', url, headers: h.actors.mca.auth() })
    t.equal(res.statusCode, 403, `an agency never sees ${url}`)
    t.equal(res.json().code, 'GOVEX_ERR_FORBIDDEN_ROLE')
  }
  t.equal((await h.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: h.actors.operator.auth() })).statusCode, 403, 'verify is the auditor\'s')

  // the chain rewritten from seq 2 on and re-signed with another key: the registry's key says forged
  await h.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: auditor })
  const path = join(h.config.store.kind === 'file' ? h.config.store.dir : '', 'audit', `${GATEWAY_ID}.jsonl`)
  const lines = (await readFile(path, 'utf8')).trim().split('\n')
  const forged = rewriteFrom(lines, 2, 'status', 201, checkpointSigner(generateKeyPair(h.actors.gateway.privateJwk.kid).privateJwk))
  await writeFile(path, forged.lines.join('\n') + '\n')
  t.match(await get('/v1/audit/verify'), { ok: false, firstBad: { gatewayId: GATEWAY_ID, seq: 4, reason: 'forged-checkpoint' } })
})
