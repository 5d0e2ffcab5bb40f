// audit query/verify/export read a file store directly; verify names the first
// tampered record; an export verifies offline.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FileAuditLog } from '@govex/core'
import type { AuditEntry } from '@govex/core'
import { govex, tempDir } from './helpers/run.js'

const GW = 'city.gw.extranet-1'

function exchange (i: number, outcome: 'allowed' | 'denied'): AuditEntry {
  return {
    kind: 'exchange',
    id: randomUUID(),
    consumer: i % 2 === 0 ? 'city.mca' : 'city.hrss',
    provider: 'city.psb',
    resource: 'city.psb:household-registration',
    userId: `officer-${i}`,
    purpose: 'minimum-living-guarantee-review',
    caseRef: `MCA-${i}`,
    plan: { id: 'city-sharing-plan', version: 1 },
    grantId: 'mca-household',
    fields: ['name', 'householdAddress'],
    outcome,
    code: outcome === 'allowed' ? null : 'GOVEX_ERR_NO_GRANT',
    status: outcome === 'allowed' ? 200 : 403,
    latencyMs: 1.5,
    digests: outcome === 'allowed' ? { request: 'sha256:' + 'a'.repeat(64), response: 'sha256:' + 'b'.repeat(64) } : null
  }
}

async function deploymentWithLog (t: Parameters<Parameters<typeof t.test>[1]>[0], n: number): Promise<{ dir: string, config: string }> {
  const dir = await tempDir(t)
  t.equal((await govex(['init', dir])).code, 0)
  const log = await FileAuditLog.open({ dir: join(dir, 'data'), gatewayId: GW })
  for (let i = 1; i <= n; i++) await log.append(exchange(i, i % 3 === 0 ? 'denied' : 'allowed'))
  await log.close()
  return { dir, config: join(dir, 'govex.config.json') }
}

t.test('verify passes an intact log and names the first tampered record', async t => {
  const { dir, config } = await deploymentWithLog(t, 6)
  const ok = await govex(['audit', 'verify', '--config', config])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /^ok: 6 records checked/)
  t.same(await readdir(join(dir, 'data', 'audit')), [`${GW}.jsonl`], 'the reader leaves nothing behind in the audit folder')
  const log = join(dir, 'data', 'audit', `${GW}.jsonl`)
  const lines = (await readFile(log, 'utf8')).split('\n')
  lines[3] = (lines[3] ?? '').replace('"city.mca"', '"city.psb"')
  await writeFile(log, lines.join('\n'))
  const bad = await govex(['audit', 'verify', '--config', config])
  t.equal(bad.code, 1)
  t.match(bad.stdout, new RegExp(`^broken: gateway ${GW.replace(/\./g, '\\.')} seq 4 `))
  const j = await govex(['audit', 'verify', '--config', config, '--json'])
  t.equal(j.code, 1)
  t.match(JSON.parse(j.stdout), { ok: false, firstBad: { gatewayId: GW, seq: 4 } })
})

t.test('export streams NDJSON that verifies offline; a tampered export does not', async t => {
  const { dir, config } = await deploymentWithLog(t, 5)
  const out = join(dir, 'export.ndjson')
  const r = await govex(['audit', 'export', '--config', config, '--out', out])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /exported 5 records/)
  const text = await readFile(out, 'utf8')
  t.equal(text.trim().split('\n').length, 5)
  const v = await govex(['audit', 'verify', '--file', out])
  t.equal(v.code, 0, v.stdout + v.stderr)
  t.match(v.stdout, /^ok: 5 records checked/)
  const again = await govex(['audit', 'export', '--config', config, '--out', out])
  t.equal(again.code, 1)
  t.match(again.stderr, /already exists; pass --force/)

  const lines = text.trim().split('\n')
  lines.splice(1, 1)
  const gap = join(dir, 'gap.ndjson')
  await writeFile(gap, lines.join('\n') + '\n')
  const bad = await govex(['audit', 'verify', '--file', gap])
  t.equal(bad.code, 1)
  t.match(bad.stdout, /^broken: gateway .* seq [23] /)

  const notJson = join(dir, 'x.ndjson')
  await writeFile(notJson, lines[0] + '\nnot json\n')
  const nj = await govex(['audit', 'verify', '--file', notJson])
  t.equal(nj.code, 1)
  t.match(nj.stderr, /x\.ndjson:2 is not a JSON record/)

  const stdout = await govex(['audit', 'export', '--config', config, '--format', 'csv', '--outcome', 'denied'])
  t.equal(stdout.code, 0, stdout.stderr)
  const rows = stdout.stdout.trim().split('\n')
  t.match(rows[0], /^gatewayId,seq,ts,kind,id,consumer/)
  t.equal(rows.length, 2, 'header and the one denied record (seq 3)')
  t.match(rows[1], /GOVEX_ERR_NO_GRANT/)
})

t.test('query filters, pages and formats', async t => {
  const { config } = await deploymentWithLog(t, 7)
  const page = await govex(['audit', 'query', '--config', config, '--consumer', 'city.mca', '--limit', '2', '--format', 'json'])
  t.equal(page.code, 0, page.stderr)
  const first = JSON.parse(page.stdout) as { records: Array<{ seq: number, consumer: string }>, nextCursor: string | null }
  t.same(first.records.map(r => r.seq), [2, 4])
  t.type(first.nextCursor, 'string')
  const next = await govex(['audit', 'query', '--config', config, '--consumer', 'city.mca', '--limit', '2', '--format', 'json', '--cursor', first.nextCursor ?? ''])
  t.same((JSON.parse(next.stdout) as { records: Array<{ seq: number }> }).records.map(r => r.seq), [6])

  const table = await govex(['audit', 'query', '--config', config, '--outcome', 'denied'], { tty: true })
  t.equal(table.code, 0)
  t.match(table.stdout, /^TS +GATEWAY:SEQ +KIND/)
  t.match(table.stdout, /city\.gw\.extranet-1:3 +exchange +city\.hrss +city\.psb:household-registration +denied +403 +NO_GRANT/)
  const json = await govex(['audit', 'query', '--config', config, '--consumer', 'city.mca', '--limit', '2', '--json'], { tty: true })
  t.same((JSON.parse(json.stdout) as { records: Array<{ seq: number }> }).records.map(r => r.seq), [2, 4], '--json is --format json, even on a terminal')
  const both = await govex(['audit', 'query', '--config', config, '--json', '--format', 'csv'])
  t.equal(both.code, 1, '--json and --format conflict')
  const ndjson = await govex(['audit', 'query', '--config', config, '--case-ref', 'MCA-5', '--format', 'ndjson'])
  t.equal(ndjson.stdout.trim().split('\n').length, 1)

  const badLimit = await govex(['audit', 'query', '--config', config, '--limit', '5000'])
  t.equal(badLimit.code, 1)
  t.match(badLimit.stderr, /--limit 5000 must be a whole number from 1 to 1000/)
  const badFrom = await govex(['audit', 'query', '--config', config, '--from', 'yesterday'])
  t.match(badFrom.stderr, /--from yesterday is not an ISO 8601 date or date-time with a zone/)
  const noConfig = await govex(['audit', 'verify'])
  t.equal(noConfig.code, 1)
  t.match(noConfig.stderr, /pass --config/)
})
