import t from 'tap'
import { mkdtemp, rm, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, publicKeyFromJwk } from '../src/keys.js'
import { MemoryAuditLog } from '../src/store/memory/audit-log.js'
import { FileAuditLog } from '../src/store/file/audit-log.js'
import { exchangeEntry, adminEntry } from '../src/store/audit-contract.js'
import { checkCheckpointOptions, checkpointKeysOf, checkpointSigner, checkpointFault, DEFAULT_CHECKPOINT_EVERY } from '../src/audit/checkpoint.js'
import { verifyChain, verifyLines, inspectLine, readRecordLine } from '../src/audit/verify.js'
import { sealLine } from '../src/audit/chain.js'
import type { AuditLog } from '../src/store/types.js'
import type { AuditRecord, CheckpointAuditRecord } from '../src/schemas/audit.js'
import type { Member } from '../src/schemas/member.js'
import { ZERO_DIGEST } from '../src/canonical.js'

const GW = 'tj.gw.extranet-1'
const gatewayKeys = generateKeyPair('gw-key-1')
const otherKeys = generateKeyPair('gw-key-1')
const gatewayMember: Member = { id: GW, name: 'Gateway', roles: ['gateway'], keys: [gatewayKeys.publicJwk] }
const keys = checkpointKeysOf([gatewayMember])
const checkpoint = { every: 3, sign: checkpointSigner(gatewayKeys.privateJwk) }

/** A clock one second a call from 2026-11-27T08:00:00Z. */
function clock (): () => number {
  let ms = Date.parse('2026-11-27T08:00:00.000Z')
  return () => (ms += 1000)
}

async function collect (source: AsyncIterable<AuditRecord>): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for await (const r of source) out.push(r)
  return out
}

async function fill (log: AuditLog, n: number): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for (let i = 0; i < n; i++) {
    out.push(await log.append(i % 4 === 3
      ? adminEntry()
      : exchangeEntry({ consumer: i % 2 === 0 ? 'tj.mca' : 'tj.hrss', latencyMs: i + 1, outcome: i % 5 === 4 ? 'denied' : 'allowed', status: i % 5 === 4 ? 403 : 200 })))
  }
  return out
}

t.test('options are checked eagerly', async t => {
  t.equal(checkCheckpointOptions(undefined), undefined)
  t.equal(DEFAULT_CHECKPOINT_EVERY, 0, 'off unless the operator asks: PROTOCOL.md v1 has no checkpoint kind')
  t.throws(() => checkCheckpointOptions({ every: 0, sign: checkpoint.sign }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  t.throws(() => checkCheckpointOptions({ every: 1.5, sign: checkpoint.sign }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  t.throws(() => checkCheckpointOptions({ every: 3, sign: 'no' as unknown as typeof checkpoint.sign }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  t.throws(() => new MemoryAuditLog({ gatewayId: GW, checkpoint: { every: -1, sign: checkpoint.sign } }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  t.throws(() => checkpointSigner({ ...gatewayKeys.privateJwk, d: 'AAAA' }), 'a key that does not parse fails at start')
})

t.test('a checkpoint follows every N-th record, signs the record before it, and lands with it', async t => {
  const log = new MemoryAuditLog({ gatewayId: GW, now: clock(), checkpoint })
  const appended = await fill(log, 7)
  t.same(appended.map(r => r.seq), [1, 2, 3, 5, 6, 8, 9], 'appends skip the seqs checkpoints take: every 3rd seq from 4 on')
  const all = await collect(log.scan({}))
  t.same(all.map(r => r.kind === 'checkpoint' ? `c${r.seq}` : r.seq), [1, 2, 3, 'c4', 5, 6, 'c7', 8, 9, 'c10'])
  const cp = all[3] as CheckpointAuditRecord
  t.match(cp, { kind: 'checkpoint', gatewayId: GW, seq: 4, kid: 'gw-key-1', head: { seq: 3, hash: (all[2] as AuditRecord).hash }, prevHash: (all[2] as AuditRecord).hash })
  t.equal(cp.ts, (all[2] as AuditRecord).ts, 'same ts as the record it signs')
  t.equal(checkpointFault(cp, publicKeyFromJwk(gatewayKeys.publicJwk)), null)
  t.equal(checkpointFault(cp, publicKeyFromJwk(otherKeys.publicJwk)), 'forged-checkpoint', 'another key')
  t.equal(checkpointFault(cp, null), 'forged-checkpoint', 'no such key')
  t.equal(checkpointFault({ ...cp, signature: 'x' }, publicKeyFromJwk(gatewayKeys.publicJwk)), 'forged-checkpoint')
  t.equal(checkpointFault({ ...cp, head: { seq: 2, hash: cp.head.hash } }, undefined), 'forged-checkpoint', 'head not the record before')
  t.equal(checkpointFault({ ...cp, head: null as unknown as CheckpointAuditRecord['head'] }, undefined), 'forged-checkpoint')
  t.same(log.head(), { seq: 10, hash: (all[9] as AuditRecord).hash })

  t.same(await log.verify(), { ok: true, checked: 10 }, 'without keys: checked for place only')
  t.same(await log.verify({ keys }), { ok: true, checked: 10, checkpoints: 3, lastCheckpoint: { [GW]: 10 } })
  const otherMember = { ...gatewayMember, keys: [otherKeys.publicJwk] }
  t.same((await log.verify({ keys: checkpointKeysOf([otherMember]) })).firstBad, { gatewayId: GW, seq: 4, reason: 'forged-checkpoint' })
  const renamed = { ...gatewayMember, keys: [{ ...gatewayKeys.publicJwk, kid: 'rotated' }] }
  t.same((await log.verify({ keys: checkpointKeysOf([renamed]) })).firstBad, { gatewayId: GW, seq: 4, reason: 'forged-checkpoint' }, 'known gateway, unknown kid')
  t.same(await log.verify({ keys: checkpointKeysOf([]) }), { ok: true, checked: 10 }, 'an unknown gateway: its checkpoints cannot be checked')
})

t.test('filters treat checkpoints sensibly', async t => {
  const log = new MemoryAuditLog({ gatewayId: GW, now: clock(), checkpoint })
  await fill(log, 9)
  const kinds = async (filter: object): Promise<string[]> => (await log.query(filter, 100)).records.map(r => r.kind)
  t.same(await kinds({ kind: 'checkpoint' }), ['checkpoint', 'checkpoint', 'checkpoint', 'checkpoint'])
  t.notOk((await kinds({ consumer: 'tj.mca' })).includes('checkpoint'))
  t.notOk((await kinds({ outcome: 'allowed' })).includes('checkpoint'))
  t.notOk((await kinds({ kind: 'exchange' })).includes('checkpoint'))
  t.ok((await kinds({})).includes('checkpoint'), 'an unfiltered listing shows the whole chain')
})

t.test('checkpointKeysOf skips keys that do not parse', async t => {
  const broken = { ...gatewayMember, keys: [{ ...gatewayKeys.publicJwk, kid: 'bad', x: 'AAAA' }, gatewayKeys.publicJwk] }
  const resolve = checkpointKeysOf([broken])
  t.equal(resolve(GW, 'bad'), null)
  t.ok(resolve(GW, 'gw-key-1'))
  t.equal(resolve('tj.gw.other', 'gw-key-1'), undefined)
})

t.test('verifyChain resumes from a checkpoint, holding only the gateway\'s public key', async t => {
  const log = new MemoryAuditLog({ gatewayId: GW, now: clock(), checkpoint })
  await fill(log, 12)
  const all = await collect(log.scan({}))
  const cp = all.find(r => r.kind === 'checkpoint' && r.seq === 7) as CheckpointAuditRecord
  const publicKey = publicKeyFromJwk(gatewayKeys.publicJwk)
  const after = all.filter(r => r.seq > 7)
  t.equal(after.length, 10)
  t.same(await verifyChain(after, { from: cp, publicKey }), { ok: true, checked: 11, checkpoints: 4, lastCheckpoint: { [GW]: 16 } })
  t.same(await verifyChain(all, { from: cp, publicKey }), { ok: true, checked: 11, checkpoints: 4, lastCheckpoint: { [GW]: 16 } }, 'earlier records are skipped')
  // records before the checkpoint may be anything: they are not this walk's
  const damaged = all.map(r => r.seq === 2 ? { ...r, userId: 'someone else' } : r)
  t.equal((await verifyChain(damaged, { from: cp, publicKey })).ok, true)
  t.same((await verifyChain(damaged, { publicKey })).firstBad, { gatewayId: GW, seq: 2, reason: 'changed' })
  // a forged starting point is refused before anything else
  const forged = { ...cp, ...checkpointSigner(otherKeys.privateJwk)(cp.head.hash) }
  const refit = sealLine({ kind: 'checkpoint', id: forged.id, head: forged.head, kid: forged.kid, signature: forged.signature }, { gatewayId: GW, seq: 7, ts: cp.ts, prevHash: cp.prevHash }).record
  t.same((await verifyChain(after, { from: refit, publicKey })).firstBad, { gatewayId: GW, seq: 7, reason: 'forged-checkpoint' })
  t.same((await verifyChain(after, { from: { ...cp, kind: 'exchange' } as unknown as CheckpointAuditRecord, publicKey })).firstBad, { gatewayId: GW, seq: 7, reason: 'changed' }, 'not a checkpoint')
  // a later record that does not link to the checkpoint
  const broken = after.map(r => r.seq === 8 ? { ...r, prevHash: ZERO_DIGEST } : r)
  t.same((await verifyChain(broken, { from: cp, publicKey })).firstBad, { gatewayId: GW, seq: 8, reason: 'changed' })
})

t.test('a checkpoint that does not link is forged; `to` stops each chain', async t => {
  const log = new MemoryAuditLog({ gatewayId: GW, now: clock(), checkpoint })
  await fill(log, 6)
  const all = await collect(log.scan({}))
  // a checkpoint lifted from elsewhere, re-sealed at seq 4 over the wrong prevHash
  const cp = all[3] as CheckpointAuditRecord
  const moved = sealLine({ kind: 'checkpoint', id: cp.id, head: cp.head, kid: cp.kid, signature: cp.signature }, { gatewayId: GW, seq: 4, ts: cp.ts, prevHash: (all[1] as AuditRecord).hash }).record
  const withMoved = all.map(r => r.seq === 4 ? moved : r)
  t.same((await verifyChain(withMoved, { keys })).firstBad, { gatewayId: GW, seq: 4, reason: 'forged-checkpoint' })
  const to = (all[5] as AuditRecord).ts
  t.same(await verifyChain(all, { to, heads: new Map([[GW, log.head()]]) }), { ok: true, checked: 5 }, 'no head check for a range')
})

t.test('range verify: memory and file logs start at the last checkpoint before `from`', async t => {
  const root = await mkdtemp(join(tmpdir(), 'govex-cp-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  const memory = new MemoryAuditLog({ gatewayId: GW, now: clock(), checkpoint })
  const file = await FileAuditLog.open({ dir: root, gatewayId: GW, now: clock(), checkpoint })
  t.teardown(async () => { await file.close() })
  for (const log of [memory, file]) {
    await fill(log, 20)
    const all = await collect(log.scan({}))
    t.equal(all.length, 29)
    const at = (seq: number): string => (all.find(r => r.seq === seq) as AuditRecord).ts
    // records 14..: the last checkpoint before is 13 (it signs 12)
    t.same(await log.verify({ from: at(14), keys }), { ok: true, checked: 17, checkpoints: 6, lastCheckpoint: { [GW]: 28 } }, `${log.constructor.name}: from`)
    t.same(await log.verify({ from: at(14), to: at(18), keys }), { ok: true, checked: 5, checkpoints: 2, lastCheckpoint: { [GW]: 16 } }, `${log.constructor.name}: from and to`)
    t.same(await log.verify({ to: at(3) }), { ok: true, checked: 2 })
    t.same(await log.verify({ from: '2000-01-01T00:00:00Z' }), { ok: true, checked: 29 }, 'from before every checkpoint: the chain start')
    await t.rejects(log.verify({ from: 'yesterday' }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  }
  // the file log reads from the checkpoint's offset: damage before it is outside the range
  const text = await readFile(file.path, 'utf8')
  t.equal(text.split('\n').filter(l => l.includes('"kind":"checkpoint"')).length, 9)
})

t.test('file log: a checkpoint is written with its record whatever maxBatch, and the chain goes on after reopening', async t => {
  const root = await mkdtemp(join(tmpdir(), 'govex-cp-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  const log = await FileAuditLog.open({ dir: root, gatewayId: GW, maxBatch: 1, checkpoint })
  const records = await Promise.all(Array.from({ length: 7 }, async () => await log.append(exchangeEntry())))
  t.same(records.map(r => r.seq), [1, 2, 3, 5, 6, 8, 9])
  t.equal(log.stats.batches, 7, 'each record with its checkpoint in one write')
  await log.close()
  const again = await FileAuditLog.open({ dir: root, gatewayId: GW, checkpoint })
  t.teardown(async () => { await again.close() })
  t.same(again.head().seq, 10)
  t.equal((await again.append(exchangeEntry())).seq, 11)
  t.equal((await again.append(exchangeEntry())).seq, 12)
  t.equal((await again.query({ kind: 'checkpoint' }, 10)).records.length, 4)
  t.same(await again.verify({ keys }), { ok: true, checked: 13, checkpoints: 4, lastCheckpoint: { [GW]: 13 } })
  await new Promise(resolve => setTimeout(resolve, 5))
  t.same(await again.verify({ from: new Date().toISOString(), keys }), { ok: true, checked: 1, checkpoints: 1, lastCheckpoint: { [GW]: 13 } }, 'from now: only the last checkpoint')
})

t.test('inspectLine: the fast path agrees with parsing', async t => {
  const seal = (entry: Parameters<typeof sealLine>[0], seq = 7): string =>
    sealLine(entry, { gatewayId: GW, seq, ts: '2026-11-27T08:00:00.000Z', prevHash: ZERO_DIGEST }).line
  const lines = [
    seal(exchangeEntry()),
    seal(adminEntry()),
    seal(exchangeEntry({ userId: 'a "quoted" \\ name {with} [brackets], commas: and "hash":"x"' })),
    seal(exchangeEntry({ fields: ['a', 'b"c', 'd\\'] })),
    seal({ kind: 'checkpoint', id: 'c', head: { seq: 6, hash: ZERO_DIGEST }, kid: 'k', signature: 's' })
  ]
  for (const line of lines) {
    const facts = inspectLine(line)
    const parsed = JSON.parse(line) as AuditRecord
    t.match(facts, { gatewayId: parsed.gatewayId, seq: parsed.seq, prevHash: parsed.prevHash, hash: parsed.hash, ts: parsed.ts, kind: parsed.kind, sealed: true })
  }
  t.equal(inspectLine(lines[0] as string).record, undefined, 'the written form is not parsed')
  t.ok(inspectLine(lines[4] as string).record, 'a checkpoint is parsed: its signature is checked')
  const changed = (lines[0] as string).replace('"tj.mca"', '"tj.mcb"')
  t.equal(inspectLine(changed).sealed, false)
  const spaced = (lines[0] as string).replace('{', '{ ')
  t.equal(inspectLine(spaced).sealed, true, 'not the written form: checked by the definition')
  t.equal(inspectLine(spaced).record?.seq, 7)
  for (const odd of ['', 'nope', '{"kind":"exchange","hash":1}', '{"seq":01,"kind":"exchange","hash":"sha256:x"}', '{"a":"unterminated', '{"a":{"b":1', '{"hash":"x","kind":"exchange"}']) {
    t.equal(inspectLine(odd).sealed, false, `not sealed: ${odd}`)
  }
  t.same(readRecordLine('{"seq":1}'), { record: { seq: 1 }, sealed: false })
  t.same(await verifyLines(['', ...lines.slice(0, 1)]), { ok: false, checked: 1, firstBad: { gatewayId: GW, seq: 1, reason: 'missing' } }, 'seq 7 without 1..6 is not a chain start')
})

t.test('statistics per group from the index', async t => {
  const log = new MemoryAuditLog({ gatewayId: GW, now: clock(), checkpoint })
  await fill(log, 40)
  const stats = await log.statistics('consumer')
  t.equal(stats.by, 'consumer')
  t.equal(stats.total, 30, 'exchange records only')
  const mca = stats.groups.find(g => g.key === 'tj.mca')
  t.match(mca, { count: 20, allowed: 16, denied: 4, error: 0 })
  // mca latencies: i + 1 for even i not ≡ 3 mod 4 → 1, 3, 5, ..., 39
  t.same(mca?.latencyMs, { p50: 19, p95: 37, p99: 39 })
  const outcome = await log.statistics('outcome')
  t.same(outcome.groups.map(g => [g.key, g.count]), [['allowed', 24], ['denied', 6]])
  const from = (await log.query({}, 1)).records[0]?.ts as string
  const none = await log.statistics('provider', { from: '2999-01-01T00:00:00Z' })
  t.same(none, { by: 'provider', from: '2999-01-01T00:00:00.000Z', to: null, total: 0, groups: [] })
  t.equal((await log.statistics('resource', { from })).total, 30)
  t.equal((await log.statistics('resource', { kind: 'admin' })).total, 0)
  await t.rejects(log.statistics('userId' as 'consumer'), { code: 'GOVEX_ERR_BAD_REQUEST' })
  await t.rejects(log.statistics('consumer', { from: 'soon' }), { code: 'GOVEX_ERR_BAD_REQUEST' })
})
