import t from 'tap'
import { mkdtemp, rm, readFile, writeFile, appendFile, truncate, stat, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileAuditLog } from '../src/store/file/audit-log.js'
import { auditLogContract, exchangeEntry, adminEntry } from '../src/store/audit-contract.js'
import type { AuditLog } from '../src/store/types.js'
import type { AuditRecord } from '../src/schemas/audit.js'
import { recordHash } from '../src/audit/chain.js'

const root = await mkdtemp(join(tmpdir(), 'govex-audit-'))
t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
let dirs = 0
const newDir = (): string => join(root, `d${++dirs}`)

const dirOf = new WeakMap<AuditLog, string>()
async function openIn (dir: string, gatewayId = 'tj.gw.extranet-1', extra: { maxBatch?: number, now?: () => number, durability?: 'dsync' | 'fdatasync' } = {}): Promise<FileAuditLog> {
  const log = await FileAuditLog.open({ dir, gatewayId, ...extra })
  dirOf.set(log, dir)
  return log
}

await auditLogContract(t, 'file', async () => await openIn(newDir()), async log => {
  await log.close()
  return await openIn(dirOf.get(log) as string, log.gatewayId)
})

const lines = async (path: string): Promise<string[]> => (await readFile(path, 'utf8')).split('\n')

t.test('one record a line at <dir>/audit/<gatewayId>.jsonl, hash last', async t => {
  const dir = newDir()
  const log = await openIn(dir)
  t.teardown(async () => { await log.close() })
  const a = await log.append(exchangeEntry())
  const b = await log.append(adminEntry())
  t.equal(log.path, join(dir, 'audit', 'tj.gw.extranet-1.jsonl'))
  const text = await lines(log.path)
  t.equal(text.length, 3)
  t.equal(text[2], '', 'ends with a newline')
  t.same(JSON.parse(text[0] as string), a)
  t.same(JSON.parse(text[1] as string), b)
  t.match(text[0], /,"hash":"sha256:[0-9a-f]{64}"\}$/)
})

t.test('recovery: a torn last line is cut off and the chain goes on', async t => {
  const dir = newDir()
  const log = await openIn(dir)
  const records: AuditRecord[] = []
  for (let i = 0; i < 5; i++) records.push(await log.append(exchangeEntry()))
  await log.close()
  const path = log.path
  const whole = (await stat(path)).size
  // a crash in the middle of writing record 6
  await appendFile(path, '{"caseRef":"MCA-2026-000123","code":null,"consumer":"tj.m')
  const again = await openIn(dir)
  t.teardown(async () => { await again.close() })
  t.equal((await stat(path)).size, whole, 'the torn line is gone')
  t.same(again.head(), { seq: 5, hash: (records[4] as AuditRecord).hash })
  const next = await again.append(exchangeEntry())
  t.equal(next.seq, 6)
  t.equal(next.prevHash, (records[4] as AuditRecord).hash)
  t.same(await again.verify(), { ok: true, checked: 6 })
  t.equal((await again.query({}, 100)).records.length, 6)
})

t.test('recovery: a file holding only a torn line starts the chain afresh', async t => {
  const dir = newDir()
  const first = await openIn(dir)
  await first.close()
  await writeFile(first.path, '{"gatewayId":"tj.gw.ext')
  const log = await openIn(dir)
  t.teardown(async () => { await log.close() })
  t.equal(log.head().seq, 0)
  t.equal((await log.append(exchangeEntry())).seq, 1)
  t.same(await log.verify(), { ok: true, checked: 1 })
})

t.test('recovery refuses a last whole line it cannot read', async t => {
  const dir = newDir()
  const log = await openIn(dir)
  await log.append(exchangeEntry())
  await log.close()
  await appendFile(log.path, 'garbage\n')
  await t.rejects(openIn(dir), { code: 'GOVEX_ERR_UNAVAILABLE', message: /last record of .* \(at byte \d+\) is unreadable/ })
})

t.test('blank lines are skipped', async t => {
  const dir = newDir()
  const log = await openIn(dir)
  await log.append(exchangeEntry())
  await log.close()
  await appendFile(log.path, '\n')
  const again = await openIn(dir)
  t.teardown(async () => { await again.close() })
  const r = await again.append(exchangeEntry())
  t.equal(r.seq, 2)
  t.same((await again.query({}, 10)).records.at(-1), r, 'the index points at the right bytes')
  t.same(await again.verify(), { ok: true, checked: 2 })
})

t.test('1,000 concurrent appends: seq 1..1000, a valid chain, fewer fsyncs than records', async t => {
  const log = await openIn(newDir())
  t.teardown(async () => { await log.close() })
  const records = await Promise.all(Array.from({ length: 1000 }, async () => await log.append(exchangeEntry())))
  t.same(records.map(r => r.seq), Array.from({ length: 1000 }, (_, i) => i + 1))
  t.same(await log.verify(), { ok: true, checked: 1000 })
  t.equal(log.stats.records, 1000)
  t.ok(log.stats.batches >= 2, 'maxBatch 512 splits them')
  t.ok(log.stats.batches <= 4, `batched: ${log.stats.batches} write+fsync rounds for 1000 records`)
  t.equal((await lines(log.path)).length, 1001)
})

t.test('appends arriving while a write is in flight share the next write', async t => {
  const log = await openIn(newDir(), 'tj.gw.extranet-1', { maxBatch: 1000 })
  t.teardown(async () => { await log.close() })
  const first = log.append(exchangeEntry())
  await Promise.resolve()
  await Promise.resolve() // the first write is under way
  const later = Array.from({ length: 50 }, async () => await log.append(exchangeEntry()))
  await first
  await Promise.all(later)
  t.equal(log.stats.batches, 2)
  t.equal(log.stats.records, 51)
  // appends made one after another each wait for their own fsync
  for (let i = 0; i < 3; i++) await log.append(exchangeEntry())
  t.equal(log.stats.batches, 5)
  t.same(await log.verify(), { ok: true, checked: 54 })
})

t.test('maxBatch bounds a write', async t => {
  const log = await openIn(newDir(), 'tj.gw.extranet-1', { maxBatch: 10 })
  t.teardown(async () => { await log.close() })
  await Promise.all(Array.from({ length: 35 }, async () => await log.append(exchangeEntry())))
  t.equal(log.stats.batches, 4)
  await log.flush()
})

for (const durability of ['dsync', 'fdatasync'] as const) {
  t.test(`a failed write rejects its appends with UNAVAILABLE and the chain steps back (${durability})`, async t => {
    const log = await openIn(newDir(), undefined, { durability })
    t.teardown(async () => { await log.close() })
    const a = await log.append(exchangeEntry())
    const file = (log as unknown as { writer: { durableFile: { write: (buf: Buffer, offset: number, length: number) => Promise<number> } } }).writer.durableFile
    const write = file.write.bind(file)
    let fail = true
    file.write = async (buf, offset, length) => {
      if (fail) {
        // part of the batch reaches the disk before the error
        await write(buf, offset, 20)
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
      }
      return await write(buf, offset, length)
    }
    const failing = [log.append(exchangeEntry()), log.append(exchangeEntry())]
    for (const p of failing) await t.rejects(p, { code: 'GOVEX_ERR_UNAVAILABLE', message: /ENOSPC.*disk space/ })
    t.same(log.head(), { seq: 1, hash: a.hash })
    fail = false
    const b = await log.append(exchangeEntry())
    t.equal(b.seq, 2)
    t.equal(b.prevHash, a.hash)
    t.same(await log.verify(), { ok: true, checked: 2 })
    t.same((await log.query({}, 10)).records, [a, b])
  })

  t.test(`a write that fails and cannot be undone breaks the log for good (${durability})`, async t => {
    const log = await openIn(newDir(), undefined, { durability })
    t.teardown(async () => { await log.close() })
    await log.append(exchangeEntry())
    const fh = (log as unknown as { own: { fh: Record<string, unknown> } }).own.fh
    const file = (log as unknown as { writer: { durableFile: Record<string, unknown> } }).writer.durableFile
    file.write = async () => { throw new Error('EIO: i/o error') }
    fh.truncate = async () => { throw new Error('EIO: i/o error') }
    const first = log.append(exchangeEntry())
    await Promise.resolve()
    await Promise.resolve()
    const queued = log.append(exchangeEntry())
    await t.rejects(first, { code: 'GOVEX_ERR_UNAVAILABLE', message: /EIO/ })
    await t.rejects(queued, { code: 'GOVEX_ERR_UNAVAILABLE' })
    await t.rejects(log.append(exchangeEntry()), { code: 'GOVEX_ERR_UNAVAILABLE', message: /restart the gateway/ })
  })
}

t.test('verify names what was done to the file', async t => {
  const setup = async (): Promise<{ dir: string, path: string, records: AuditRecord[], text: string[] }> => {
    const dir = newDir()
    const log = await openIn(dir)
    const records: AuditRecord[] = []
    for (let i = 0; i < 6; i++) records.push(await log.append(i === 3 ? adminEntry() : exchangeEntry({ userId: `u${i}` })))
    await log.close()
    return { dir, path: log.path, records, text: (await lines(log.path)).slice(0, -1) }
  }
  const verifyAfter = async (change: (text: string[]) => string[]): Promise<unknown> => {
    const { dir, path, text } = await setup()
    await writeFile(path, change(text).map(l => l + '\n').join(''))
    const log = await openIn(dir)
    try { return await log.verify() } finally { await log.close() }
  }
  t.same(await verifyAfter(x => x), { ok: true, checked: 6 })
  t.match(await verifyAfter(x => x.map((l, i) => i === 2 ? l.replace('"u2"', '"u9"') : l)),
    { ok: false, firstBad: { gatewayId: 'tj.gw.extranet-1', seq: 3, reason: 'changed' } }, 'a changed field')
  t.match(await verifyAfter(x => x.filter((_, i) => i !== 2)),
    { ok: false, firstBad: { seq: 3, reason: 'missing' } }, 'a deleted record')
  t.match(await verifyAfter(x => [x[0], x[2], x[1], ...x.slice(3)] as string[]),
    { ok: false, firstBad: { seq: 2, reason: 'reordered' } }, 'two swapped records')
  t.match(await verifyAfter(x => x.map((l, i) => i === 1 ? 'not json' : l)),
    { ok: false, firstBad: { seq: 2, reason: 'changed' } }, 'an unreadable line')
  t.match(await verifyAfter(x => x.map((l, i) => i === 1 ? l.replace('"gatewayId":"tj.gw.extranet-1"', '"gatewayId":"tj.gw.other"') : l)),
    { ok: false, firstBad: { gatewayId: 'tj.gw.extranet-1', seq: 2, reason: 'changed' } }, 'a record moved to another chain')
  // the same record written in another key order still verifies
  t.same(await verifyAfter(x => x.map((l, i) => i === 4 ? JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(l) as object).reverse())) : l)),
    { ok: true, checked: 6 })
})

t.test('verify catches a tail cut while the log is open', async t => {
  const log = await openIn(newDir())
  t.teardown(async () => { await log.close() })
  const records: AuditRecord[] = []
  for (let i = 0; i < 4; i++) records.push(await log.append(exchangeEntry()))
  const text = await lines(log.path)
  await writeFile(log.path, text.slice(0, 3).map(l => l + '\n').join(''))
  t.match(await log.verify(), { ok: false, checked: 3, firstBad: { seq: 4, reason: 'truncated' } }, 'whole records removed')
  await writeFile(log.path, text.slice(0, 3).map(l => l + '\n').join('') + (text[3] as string).slice(0, 40))
  t.match(await log.verify(), { ok: false, checked: 3, firstBad: { seq: 4, reason: 'truncated' } }, 'a torn last line')
  // the last record rewritten with a fresh hash: only the head can tell
  const last = JSON.parse(text[3] as string) as AuditRecord & { status: number }
  last.status = 500
  last.hash = recordHash(last)
  await writeFile(log.path, text.slice(0, 3).map(l => l + '\n').join('') + JSON.stringify(last) + '\n')
  t.match(await log.verify(), { ok: false, firstBad: { seq: 4, reason: 'changed' } })
})

t.test('reads cover every chain in the folder', async t => {
  const dir = newDir()
  let now = Date.parse('2026-11-27T08:00:00.000Z')
  const clock = (): number => (now += 1000)
  const old = await openIn(dir, 'tj.gw.old', { now: clock })
  const a1 = await old.append(exchangeEntry({ consumer: 'tj.hrss' }))
  const a2 = await old.append(exchangeEntry())
  await old.close()
  now -= 1500 // the new gateway's first record sorts between a1 and a2
  const log = await openIn(dir, 'tj.gw.new', { now: clock })
  t.teardown(async () => { await log.close() })
  const b1 = await log.append(exchangeEntry())
  const b2 = await log.append(adminEntry())
  t.same((await log.query({}, 10)).records, [a1, b1, a2, b2])
  t.same((await log.query({ consumer: 'tj.mca' }, 10)).records, [b1, a2])
  t.same((await log.query({ gatewayId: 'tj.gw.old' }, 10)).records, [a1, a2])
  t.same(await log.verify(), { ok: true, checked: 4 })
  t.same(log.head(), { seq: 2, hash: b2.hash })
  t.same((await readdir(join(dir, 'audit'))).sort(), ['tj.gw.new.jsonl', 'tj.gw.old.jsonl'])
  // another chain's damage is named with its gateway
  const oldPath = join(dir, 'audit', 'tj.gw.old.jsonl')
  const text = await lines(oldPath)
  await writeFile(oldPath, (text[1] as string) + '\n')
  t.match(await log.verify(), { ok: false, firstBad: { gatewayId: 'tj.gw.old', seq: 1, reason: 'missing' } })
  // and its torn tail as truncated
  await writeFile(oldPath, (text[0] as string) + '\n' + (text[1] as string).slice(0, 30))
  t.match(await log.verify(), { ok: false, checked: 3, firstBad: { gatewayId: 'tj.gw.old', seq: 2, reason: 'truncated' } }, 'tj.gw.new, then tj.gw.old')
})

t.test('files that are not chains are ignored; another chain\'s torn tail is left alone', async t => {
  const dir = newDir()
  const log = await openIn(dir, 'tj.gw.a')
  await log.append(exchangeEntry())
  await log.close()
  await appendFile(log.path, '{"torn')
  await writeFile(join(dir, 'audit', 'NOTES.jsonl'), 'hello\n')
  await writeFile(join(dir, 'audit', 'readme.txt'), 'hello\n')
  const size = (await stat(log.path)).size
  const other = await openIn(dir, 'tj.gw.b')
  t.teardown(async () => { await other.close() })
  t.equal((await stat(log.path)).size, size)
  t.equal((await other.query({}, 10)).records.length, 1)
  t.match(await other.verify(), { ok: false, firstBad: { gatewayId: 'tj.gw.a', seq: 2, reason: 'truncated' } })
})

t.test('records that are not records are not indexed', async t => {
  const dir = newDir()
  const log = await openIn(dir, 'tj.gw.a')
  await log.append(exchangeEntry())
  await log.close()
  await writeFile(join(dir, 'audit', 'tj.gw.b.jsonl'), '[1]\n{"seq":1}\nnot json\n')
  const other = await openIn(dir, 'tj.gw.a')
  t.teardown(async () => { await other.close() })
  t.equal((await other.query({}, 10)).records.length, 1)
})

t.test('a file changed under the index is reported, not misread', async t => {
  const log = await openIn(newDir())
  t.teardown(async () => { await log.close() })
  await log.append(exchangeEntry())
  await log.append(exchangeEntry())
  await truncate(log.path, 10)
  await t.rejects(log.query({}, 10), { code: 'GOVEX_ERR_UNAVAILABLE', message: /shorter than its index/ })
})

t.test('options and lifecycle', async t => {
  await t.rejects(FileAuditLog.open({ dir: '', gatewayId: 'tj.gw.a' }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  await t.rejects(FileAuditLog.open({ dir: newDir(), gatewayId: '../../etc/passwd' }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  await t.rejects(FileAuditLog.open({ dir: newDir(), gatewayId: 'tj.gw.a', maxBatch: 0 }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  const file = join(root, 'a-file')
  await writeFile(file, '')
  await t.rejects(FileAuditLog.open({ dir: file, gatewayId: 'tj.gw.a' }), { code: 'GOVEX_ERR_UNAVAILABLE', message: /cannot open the audit log/ })
  const log = await openIn(newDir())
  const pending = log.append(exchangeEntry())
  await log.close()
  t.equal((await pending).seq, 1, 'close waits for appends in flight')
  await log.close()
  await t.rejects(log.query({}, 10), { code: 'GOVEX_ERR_UNAVAILABLE' })
  t.throws(() => log.scan({}), { code: 'GOVEX_ERR_UNAVAILABLE' })
  await t.rejects(log.verify(), { code: 'GOVEX_ERR_UNAVAILABLE' })
  await t.rejects(log.query({}, 0), { code: 'GOVEX_ERR_UNAVAILABLE' })
  const open = await openIn(newDir())
  t.teardown(async () => { await open.close() })
  await t.rejects(open.query({}, 0), { code: 'GOVEX_ERR_BAD_REQUEST' })
  await t.rejects(open.query({}, 1001), { code: 'GOVEX_ERR_BAD_REQUEST' })
  await t.rejects(open.append(exchangeEntry({ latencyMs: Infinity })), { code: 'GOVEX_ERR_BAD_REQUEST' })
})

t.test('pages are read in few, bounded reads and come back whole', async t => {
  const log = await openIn(newDir())
  t.teardown(async () => { await log.close() })
  const big = 'x'.repeat(3000)
  const records = await Promise.all(Array.from({ length: 400 }, async (_, i) =>
    await log.append(exchangeEntry({ caseRef: big + String(i), consumer: i % 10 === 0 ? 'tj.rare' : 'tj.mca' }))))
  t.same((await log.query({}, 1000)).records, records, '1.2 MB of neighbouring lines, over several reads')
  t.same((await log.query({ consumer: 'tj.rare' }, 1000)).records, records.filter((_, i) => i % 10 === 0), 'lines far apart')
})
