// Tamper tests (issue 7): a changed field, a deleted record, two swapped
// records, a truncated tail and a chain rewritten with forged checkpoints are
// each named by verify with the right seq and reason, on the file log (as its
// gateway and as a reader of the folder) and on the memory log's records.
import t from 'tap'
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '../src/keys.js'
import { FileAuditLog } from '../src/store/file/audit-log.js'
import { MemoryAuditLog } from '../src/store/memory/audit-log.js'
import { exchangeEntry, adminEntry } from '../src/store/audit-contract.js'
import { changeField, deleteRecord, swapRecords, truncateTail, rewriteFrom, type Tampering } from '../src/store/audit-tamper.js'
import { checkpointKeysOf, checkpointSigner } from '../src/audit/checkpoint.js'
import { verifyChain, verifyLines } from '../src/audit/verify.js'
import type { AuditLog } from '../src/store/types.js'
import type { AuditRecord } from '../src/schemas/audit.js'

const GW = 'tj.gw.extranet-1'
const gateway = generateKeyPair('gw-1')
const forger = generateKeyPair('gw-1')
const keys = checkpointKeysOf([{ id: GW, name: 'Gateway', roles: ['gateway'], keys: [gateway.publicJwk] }])
const checkpoint = { every: 10, sign: checkpointSigner(gateway.privateJwk) }

const root = await mkdtemp(join(tmpdir(), 'govex-tamper-'))
t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
let dirs = 0

async function fill (log: AuditLog): Promise<void> {
  for (let i = 0; i < 40; i++) await log.append(i % 6 === 5 ? adminEntry() : exchangeEntry({ userId: `officer-${i % 10}` }))
}

/** Every tampering, from the intact lines (44 records: checkpoints at 11, 21, 31, 41). */
function tamperings (lines: readonly string[]): Tampering[] {
  return [
    changeField(lines, 5, 'userId', 'officer-X'),
    deleteRecord(lines, 5),
    swapRecords(lines, 5, 6),
    truncateTail(lines, 3),
    rewriteFrom(lines, 3, 'userId', 'officer-X', checkpointSigner(forger.privateJwk))
  ]
}

t.test('file log', async t => {
  const probe = await FileAuditLog.open({ dir: join(root, 'probe'), gatewayId: GW, checkpoint })
  await fill(probe)
  await probe.close()
  const intact = (await readFile(probe.path, 'utf8')).split('\n').filter(l => l !== '')
  t.equal(intact.length, 44)
  t.equal(tamperings(intact).length, 5)
  for (const tampering of tamperings(intact)) {
    await t.test(tampering.name, async t => {
      const dir = join(root, `d${++dirs}`)
      // the gateway's own log knows its head: a cut tail shows too
      const log = await FileAuditLog.open({ dir, gatewayId: GW, checkpoint })
      t.teardown(async () => { await log.close() })
      await fill(log)
      t.same(await log.verify({ keys }), { ok: true, checked: 44, checkpoints: 4, lastCheckpoint: { [GW]: 41 } })
      const lines = (await readFile(log.path, 'utf8')).split('\n').filter(l => l !== '')
      const again = tamperings(lines).find(x => x.name === tampering.name) as Tampering
      await writeFile(log.path, again.lines.join('\n') + '\n')
      t.match(await log.verify({ keys }), { ok: false, firstBad: { gatewayId: GW, ...again.firstBad } })
      // a reader of the folder (govex audit verify) knows no head
      const reader = await FileAuditLog.openReadOnly({ dir })
      t.teardown(async () => { await reader.close() })
      const read = await reader.verify({ keys })
      if (again.firstBad.reason === 'truncated') t.equal(read.ok, true, 'without the head a cut at a record boundary cannot be seen')
      else t.match(read, { ok: false, firstBad: { gatewayId: GW, ...again.firstBad } })
      if (again.firstBad.reason === 'forged-checkpoint') {
        t.equal((await reader.verify()).ok, true, 'without the gateway\'s key a rewritten chain looks whole')
      }
    })
  }

  await t.test('a torn tail, seen by a reader', async t => {
    const dir = join(root, `d${++dirs}`)
    const log = await FileAuditLog.open({ dir, gatewayId: GW, checkpoint })
    await fill(log)
    await log.close()
    const text = await readFile(log.path, 'utf8')
    await writeFile(log.path, text.slice(0, -40))
    const reader = await FileAuditLog.openReadOnly({ dir })
    t.teardown(async () => { await reader.close() })
    t.match(await reader.verify({ keys }), { ok: false, firstBad: { gatewayId: GW, seq: 44, reason: 'truncated' } })
  })

  await t.test('range verify sees damage inside the range only', async t => {
    const dir = join(root, `d${++dirs}`)
    const log = await FileAuditLog.open({ dir, gatewayId: GW, checkpoint })
    t.teardown(async () => { await log.close() })
    await fill(log)
    const records = (await readFile(log.path, 'utf8')).split('\n').filter(l => l !== '')
    const ts = (JSON.parse(records[44 - 1] as string) as AuditRecord).ts
    await writeFile(log.path, changeField(records, 5, 'userId', 'officer-X').lines.join('\n') + '\n')
    // every record shares a ms or a few: take the range from the last checkpoint on
    const from = new Date(Date.parse(ts) + 1).toISOString()
    t.match(await log.verify({ keys }), { ok: false, firstBad: { seq: 5, reason: 'changed' } })
    t.match(await log.verify({ from, keys }), { ok: true })
  })
})

t.test('memory log records, as an export holds them', async t => {
  const log = new MemoryAuditLog({ gatewayId: GW, checkpoint })
  await fill(log)
  const records: AuditRecord[] = []
  for await (const r of log.scan({})) records.push(r)
  const intact = records.map(r => JSON.stringify(r))
  const heads = new Map([[GW, log.head()]])
  t.same(await verifyLines(intact, { keys, heads }), { ok: true, checked: 44, checkpoints: 4, lastCheckpoint: { [GW]: 41 } })
  for (const tampering of tamperings(intact)) {
    const want = { ok: false, firstBad: { gatewayId: GW, ...tampering.firstBad } }
    t.match(await verifyLines(tampering.lines, { keys, heads }), want, `${tampering.name}: lines`)
    t.match(await verifyChain(tampering.lines.map(l => JSON.parse(l) as AuditRecord), { keys, heads }), want, `${tampering.name}: records`)
  }
})

t.test('verifyFile: an exported file, whole, tampered, or cut in the middle of a line', async t => {
  const { verifyFile } = await import('../src/audit/verify-file.js')
  const log = new MemoryAuditLog({ gatewayId: GW, checkpoint })
  await fill(log)
  const lines: string[] = []
  for await (const r of log.scan({})) lines.push(JSON.stringify(r))
  const path = join(root, 'export.ndjson')
  await writeFile(path, lines.join('\n') + '\n')
  let seen = 0
  t.same(await verifyFile(path, { keys }, n => { seen += n }), { ok: true, checked: 44, checkpoints: 4, lastCheckpoint: { [GW]: 41 } })
  t.equal(seen, 44)
  await writeFile(path, swapRecords(lines, 7, 9).lines.join('\n') + '\n')
  t.match(await verifyFile(path, { keys }), { ok: false, firstBad: { gatewayId: GW, seq: 7, reason: 'reordered' } })
  await writeFile(path, lines.join('\n').slice(0, -30))
  t.match(await verifyFile(path, { keys }), { ok: false, firstBad: { gatewayId: GW, seq: 44, reason: 'truncated' } }, 'a torn last line')
  await writeFile(path, 'not json\n')
  t.match(await verifyFile(path), { ok: false, firstBad: { gatewayId: '', seq: 1, reason: 'changed' } })
  await t.rejects(verifyFile(join(root, 'nope.ndjson')), { code: 'ENOENT' })
})
