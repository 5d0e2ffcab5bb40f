// Issue 7 on the command line: checkpoints signed by the gateway's key are
// checked by `audit verify` (store or exported file), a range is verified from
// the last checkpoint before it, every tampering of an export is named with
// its seq and reason, and `audit stats` groups exchange records.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FileAuditLog, FileMemberRegistry, checkpointSigner, generateKeyPair } from '@govex/core'
import type { GatewayConfig, Member, PrivateJwk } from '@govex/core'
import { exchangeEntry, changeField, deleteRecord, swapRecords, truncateTail, rewriteFrom } from '@govex/core/contract'
import { govex, tempDir } from './helpers/run.js'

interface Deployment { dir: string, config: string, members: string, gatewayId: string, export: string }

/** `govex init`, then 40 exchange records (a checkpoint every 10 seqs) and an export of them. */
async function deployment (t: Parameters<Parameters<typeof t.test>[1]>[0]): Promise<Deployment> {
  const dir = await tempDir(t)
  t.equal((await govex(['init', dir])).code, 0)
  const config = join(dir, 'govex.config.json')
  const cfg = JSON.parse(await readFile(config, 'utf8')) as GatewayConfig
  const key = JSON.parse(await readFile(join(dir, cfg.keyFile), 'utf8')) as PrivateJwk
  const members = join(dir, cfg.bootstrap?.members ?? '')
  let ms = Date.parse('2026-11-27T08:00:00.000Z')
  const now = (): number => (ms += 60_000)
  const log = await FileAuditLog.open({ dir: join(dir, 'data'), gatewayId: cfg.gatewayId, now, checkpoint: { every: 10, sign: checkpointSigner(key) } })
  for (let i = 0; i < 40; i++) {
    await log.append(exchangeEntry({ consumer: i % 4 === 0 ? 'city.hrss' : 'city.mca', latencyMs: i + 1, userId: `officer-${i % 3}` }))
  }
  await log.close()
  const out = join(dir, 'export.ndjson')
  const r = await govex(['audit', 'export', '--config', config, '--out', out])
  t.equal(r.code, 0, r.stderr)
  return { dir, config, members, gatewayId: cfg.gatewayId, export: out }
}

t.test('verify checks checkpoint signatures with the members\' gateway keys', async t => {
  const d = await deployment(t)
  const noKeys = await govex(['audit', 'verify', '--config', d.config])
  t.equal(noKeys.code, 0, noKeys.stderr)
  t.match(noKeys.stdout, /^ok: 44 records checked in the store/)
  t.match(noKeys.stderr, /checkpoint signatures not checked: no gateway member known \(pass --members/)

  const listed = await govex(['audit', 'query', '--config', d.config, '--kind', 'checkpoint', '--json'])
  t.equal(listed.code, 0, listed.stderr)
  t.same((JSON.parse(listed.stdout) as { records: Array<{ kind: string, seq: number }> }).records.map(r => [r.kind, r.seq]), [['checkpoint', 11], ['checkpoint', 21], ['checkpoint', 31], ['checkpoint', 41]], '--kind checkpoint lists the signed checkpoints')

  const withFile = await govex(['audit', 'verify', '--config', d.config, '--members', d.members, '--json'])
  t.equal(withFile.code, 0, withFile.stderr)
  t.same(JSON.parse(withFile.stdout), { ok: true, checked: 44, checkpoints: 4, lastCheckpoint: { [d.gatewayId]: 41 } })

  // the store's own members serve as well (a gateway bootstraps them there)
  const registry = await FileMemberRegistry.open({ dir: join(d.dir, 'data') })
  for (const m of JSON.parse(await readFile(d.members, 'utf8')) as Member[]) await registry.put(m)
  const fromStore = await govex(['audit', 'verify', '--config', d.config])
  t.equal(fromStore.code, 0)
  t.match(fromStore.stdout, new RegExp(`signed checkpoints: 4 valid; proven by the gateways' keys: ${d.gatewayId.replace(/\./g, '\\.')} up to seq 41`))

  // another key under the gateway's id: every checkpoint is forged
  const members = JSON.parse(await readFile(d.members, 'utf8')) as Member[]
  const other = generateKeyPair('other').publicJwk
  const forgedMembers = join(d.dir, 'forged-members.json')
  await writeFile(forgedMembers, JSON.stringify(members.map(m => m.id === d.gatewayId ? { ...m, keys: [other] } : m)))
  const forged = await govex(['audit', 'verify', '--config', d.config, '--members', forgedMembers])
  t.equal(forged.code, 1)
  t.match(forged.stdout, new RegExp(`^broken: gateway ${d.gatewayId.replace(/\./g, '\\.')} seq 11 forged-checkpoint`))

  const badMembers = await govex(['audit', 'verify', '--config', d.config, '--members', join(d.dir, 'nope.json')])
  t.match(badMembers.stderr, /cannot read --members/)
  await writeFile(join(d.dir, 'x.json'), '{"not":"a list"}')
  t.match((await govex(['audit', 'verify', '--config', d.config, '--members', join(d.dir, 'x.json')])).stderr, /is not a member list/)
})

t.test('verify a time range: from the last checkpoint before it', async t => {
  const d = await deployment(t)
  const all = (await readFile(d.export, 'utf8')).trim().split('\n').map(l => JSON.parse(l) as { seq: number, ts: string })
  const at = (seq: number): string => (all.find(r => r.seq === seq) as { ts: string }).ts
  const r = await govex(['audit', 'verify', '--config', d.config, '--members', d.members, '--from', at(25), '--to', at(35), '--json'])
  t.equal(r.code, 0, r.stderr)
  // from checkpoint 21 up to record 34: 14 records, checkpoints 21 and 31
  t.same(JSON.parse(r.stdout), { ok: true, checked: 14, checkpoints: 2, lastCheckpoint: { [d.gatewayId]: 31 } })
  const text = await govex(['audit', 'verify', '--config', d.config, '--from', at(25)])
  t.match(text.stdout, /^ok: 24 records checked in the store \(.* to now, from the last checkpoint before\)/)
  const reversed = await govex(['audit', 'verify', '--config', d.config, '--from', at(35), '--to', at(25)])
  t.equal(reversed.code, 1)
  t.match(reversed.stderr, /is later than --to .*; swap them/)
  t.match((await govex(['audit', 'verify', '--config', d.config, '--from', 'monday'])).stderr, /--from monday is not an ISO 8601 date or date-time with a zone/)
  t.match((await govex(['audit', 'verify', '--file', d.export, '--from', at(25)])).stderr, /an export file is verified whole/)
})

t.test('an exported file: every tampering is named with its seq and reason', async t => {
  const d = await deployment(t)
  const lines = (await readFile(d.export, 'utf8')).trim().split('\n')
  const ok = await govex(['audit', 'verify', '--file', d.export, '--members', d.members, '--json'])
  t.same(JSON.parse(ok.stdout), { ok: true, checked: 44, checkpoints: 4, lastCheckpoint: { [d.gatewayId]: 41 } })
  const forger = generateKeyPair('forger')
  const cases = [
    changeField(lines, 5, 'userId', 'officer-X'),
    deleteRecord(lines, 5),
    swapRecords(lines, 5, 6),
    rewriteFrom(lines, 3, 'userId', 'officer-X', checkpointSigner(forger.privateJwk))
  ]
  for (const c of cases) {
    const file = join(d.dir, 'tampered.ndjson')
    await writeFile(file, c.lines.join('\n') + '\n')
    const r = await govex(['audit', 'verify', '--file', file, '--members', d.members, '--json'])
    t.equal(r.code, 1, c.name)
    t.match(JSON.parse(r.stdout), { ok: false, firstBad: { gatewayId: d.gatewayId, ...c.firstBad } }, c.name)
  }
  // a cut at a record boundary needs the head: an export alone cannot show it; a cut mid-line can
  const cut = truncateTail(lines, 3)
  const file = join(d.dir, 'cut.ndjson')
  await writeFile(file, cut.lines.join('\n') + '\n' + (lines[41] as string).slice(0, 400))
  const r = await govex(['audit', 'verify', '--file', file, '--members', d.members])
  t.equal(r.code, 1)
  t.match(r.stdout, new RegExp(`^broken: gateway ${d.gatewayId.replace(/\./g, '\\.')} seq 42 truncated`))
  t.match((await govex(['audit', 'verify', '--file', join(d.dir, 'none.ndjson')])).stderr, /cannot read .*none\.ndjson \(ENOENT\)/)
})

t.test('stats per group, as a table or JSON', async t => {
  const d = await deployment(t)
  const table = await govex(['audit', 'stats', '--config', d.config, '--by', 'consumer'])
  t.equal(table.code, 0, table.stderr)
  t.match(table.stdout, /^CONSUMER +COUNT +ALLOWED +DENIED +ERROR +P50 MS +P95 MS +P99 MS\n/)
  t.match(table.stdout, /city\.mca +30 +30 +0 +0 +\d+/)
  t.match(table.stdout, /40 exchange records, start to now\n$/)
  const j = await govex(['audit', 'stats', '--config', d.config, '--by', 'outcome', '--json'])
  t.match(JSON.parse(j.stdout), { by: 'outcome', total: 40, groups: [{ key: 'allowed', count: 40, latencyMs: { p50: 20, p95: 38, p99: 40 } }] })
  const bad = await govex(['audit', 'stats', '--config', d.config, '--by', 'userId'])
  t.equal(bad.code, 1)
  t.match(bad.stderr, /userId/)
  const reversed = await govex(['audit', 'stats', '--config', d.config, '--from', '2026-12-01', '--to', '2026-11-01'])
  t.match(reversed.stderr, /swap them/)
  const empty = await govex(['audit', 'stats', '--config', d.config, '--from', '2030-01-01'])
  t.match(empty.stdout, /^CONSUMER .*\n0 exchange records, 2030-01-01T00:00:00\.000Z to now\n$/)
})
