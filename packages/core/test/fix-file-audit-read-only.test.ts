// `govex audit` reads a file store beside running gateways. It opened the log
// under a reader id of its own, which created that reader's (empty) chain file
// in <dir>/audit — left there when the reader was killed, and taken by every
// gateway for a chain. FileAuditLog.openReadOnly() reads every chain with no
// chain of its own: nothing is created, cut or opened for writing, appends are
// refused with a code, and every read answers as the gateway's own log does.
import t from 'tap'
import { appendFile, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises'
import { constants } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '../src/keys.js'
import { FileAuditLog } from '../src/store/file/audit-log.js'
import { exchangeEntry, adminEntry } from '../src/store/audit-contract.js'
import { checkpointKeysOf, checkpointSigner } from '../src/audit/checkpoint.js'
import type { AuditFilter, AuditLog, AuditPage } from '../src/store/types.js'
import type { AuditRecord } from '../src/schemas/audit.js'
import type { Member } from '../src/schemas/member.js'

const GW1 = 'tj.gw.extranet-1'
const GW2 = 'tj.gw.intranet-1'
const key = generateKeyPair('gw-key-1')
const members: Member[] = [GW1, GW2].map(id => ({ id, name: id, roles: ['gateway'], keys: [key.publicJwk] }))
const keys = checkpointKeysOf(members)

const root = await mkdtemp(join(tmpdir(), 'govex-audit-ro-'))
t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
let dirs = 0
const newDir = (): string => join(root, `d${++dirs}`)

/** Two gateways' chains with checkpoints in `dir`; the first one is open again (it runs). */
async function twoChains (dir: string, n: number): Promise<FileAuditLog> {
  let ms = Date.parse('2026-11-27T08:00:00.000Z')
  const now = (): number => (ms += 1000)
  const checkpoint = { every: 7, sign: checkpointSigner(key.privateJwk) }
  const a = await FileAuditLog.open({ dir, gatewayId: GW1, now, checkpoint })
  const b = await FileAuditLog.open({ dir, gatewayId: GW2, now, checkpoint })
  for (let i = 0; i < n; i++) {
    const log = i % 3 === 0 ? b : a
    await log.append(i % 4 === 3 ? adminEntry() : exchangeEntry({ consumer: i % 2 === 0 ? 'tj.mca' : 'tj.hrss', latencyMs: i + 1, outcome: i % 5 === 4 ? 'denied' : 'allowed', status: i % 5 === 4 ? 403 : 200 }))
  }
  await b.close()
  await a.close()
  // a gateway sees the chains present when it opened (as the reader does)
  return await FileAuditLog.open({ dir, gatewayId: GW1, now, checkpoint })
}

async function collect (source: AsyncIterable<AuditRecord>): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for await (const r of source) out.push(r)
  return out
}

/** Every page of a query, each one asked for with the cursor of the one before. */
async function pages (log: AuditLog, filter: AuditFilter, limit: number): Promise<AuditPage[]> {
  const out: AuditPage[] = []
  let cursor: string | undefined
  do {
    const page = await log.query(filter, limit, cursor)
    out.push(page)
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  return out
}

/** name → size of every file in the folder */
async function listing (folder: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const name of (await readdir(folder)).sort()) out[name] = (await stat(join(folder, name))).size
  return out
}

t.test('reads every chain as the gateway\'s own log does, and creates no file', async t => {
  const dir = newDir()
  const gateway = await twoChains(dir, 60)
  t.teardown(async () => { await gateway.close() })
  const before = await listing(join(dir, 'audit'))
  const reader = await FileAuditLog.openReadOnly({ dir })
  t.teardown(async () => { await reader.close() })
  t.equal(reader.readOnly, true)
  t.equal(gateway.readOnly, false)
  t.equal(reader.gatewayId, '', 'no chain of its own')
  t.same(await listing(join(dir, 'audit')), before, 'no file made in the audit folder')

  for (const filter of [{}, { consumer: 'tj.mca' }, { outcome: 'denied' as const }, { kind: 'checkpoint' as const }, { gatewayId: GW2 }, { from: '2026-11-27T08:00:20Z', to: '2026-11-27T08:00:45Z' }]) {
    t.same(await pages(reader, filter, 7), await pages(gateway, filter, 7), `query pages with cursors: ${JSON.stringify(filter)}`)
  }
  // a cursor the gateway gave goes on in the reader, as on any gateway
  const first = await gateway.query({}, 10)
  t.same(await reader.query({}, 10, first.nextCursor ?? undefined), await gateway.query({}, 10, first.nextCursor ?? undefined))
  t.same(await reader.statistics('consumer'), await gateway.statistics('consumer'), 'statistics')
  t.same(await reader.verify({ keys }), await gateway.verify({ keys }), 'verify')
  t.same(await reader.verify({ keys, from: '2026-11-27T08:00:30Z', to: '2026-11-27T08:00:50Z' }), await gateway.verify({ keys, from: '2026-11-27T08:00:30Z', to: '2026-11-27T08:00:50Z' }), 'verify of a range')
  t.equal((await reader.verify({ keys })).ok, true)

  // a fresh reader streams the files (no index); records made since its open are read too
  await gateway.append(exchangeEntry())
  const fresh = await FileAuditLog.openReadOnly({ dir })
  t.teardown(async () => { await fresh.close() })
  const streamed = await collect(fresh.scan({}))
  t.same(streamed, await collect(gateway.scan({})), 'export (scan) without an index')
  t.ok(streamed.length > 61, `every record and checkpoint (${streamed.length})`)
  t.equal(streamed.at(-1)?.seq, gateway.head().seq, 'up to the last record written')
  t.same(await collect(fresh.scan({ consumer: 'tj.hrss' })), await collect(gateway.scan({ consumer: 'tj.hrss' })), 'filtered export')
  t.same(Object.keys(await listing(join(dir, 'audit'))), Object.keys(before), 'still only the gateways\' chains')
})

t.test('append is refused with a code and nothing is written', async t => {
  const dir = newDir()
  await (await twoChains(dir, 5)).close()
  const before = await listing(join(dir, 'audit'))
  const reader = await FileAuditLog.openReadOnly({ dir })
  await t.rejects(reader.append(exchangeEntry()), { code: 'GOVEX_ERR_UNAVAILABLE', message: /read-only/ })
  t.same(reader.head(), { seq: 0, hash: 'sha256:' + '0'.repeat(64) })
  await reader.flush()
  await reader.close()
  t.same(await listing(join(dir, 'audit')), before)
})

t.test('a chain\'s torn last line (a gateway mid-write) is left as it is', async t => {
  const dir = newDir()
  const gateway = await twoChains(dir, 10)
  const whole = (await gateway.query({}, 100)).records.length
  await gateway.close()
  const path = join(dir, 'audit', GW1 + '.jsonl')
  await appendFile(path, '{"caseRef":"MCA-2026-000123","code":null,"consu')
  const text = await readFile(path, 'utf8')
  const reader = await FileAuditLog.openReadOnly({ dir })
  t.teardown(async () => { await reader.close() })
  t.equal((await reader.query({}, 100)).records.length, whole, 'the whole records are read')
  t.equal(await readFile(path, 'utf8'), text, 'the torn line is not cut: that is its gateway\'s to do')
})

t.test('no descriptor is opened for writing (Linux: /proc/self/fdinfo)', { skip: process.platform !== 'linux' && 'needs /proc' }, async t => {
  const dir = newDir()
  await (await twoChains(dir, 5)).close()
  const folder = join(dir, 'audit')
  const reader = await FileAuditLog.openReadOnly({ dir })
  t.teardown(async () => { await reader.close() })
  await reader.query({}, 10)
  await reader.verify()
  let seen = 0
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(join('/proc/self/fd', fd)).catch(() => '')
    if (!target.startsWith(folder + '/')) continue
    seen++
    const flags = /^flags:\s+([0-7]+)$/m.exec(await readFile(join('/proc/self/fdinfo', fd), 'utf8'))?.[1]
    t.equal(Number.parseInt(flags ?? '1', 8) & constants.O_ACCMODE, constants.O_RDONLY, `${target} is open read-only`)
  }
  t.equal(seen, 2, 'one descriptor a chain')
})

t.test('a store with no audit folder is GOVEX_ERR_NOT_FOUND, and none is made', async t => {
  const dir = newDir()
  await t.rejects(FileAuditLog.openReadOnly({ dir }), { code: 'GOVEX_ERR_NOT_FOUND', message: /no audit log/ })
  await t.rejects(stat(dir), { code: 'ENOENT' }, 'nothing created')
  await t.rejects(FileAuditLog.openReadOnly({ dir: '' }), { code: 'GOVEX_ERR_BAD_REQUEST' })
  await t.rejects(FileAuditLog.openReadOnly({ dir, verifyThreads: -1 }), { code: 'GOVEX_ERR_BAD_REQUEST' })
})

t.test('a chain the reader cannot open is GOVEX_ERR_UNAVAILABLE naming the folder', { skip: process.getuid?.() === 0 && 'root reads every file' }, async t => {
  const dir = newDir()
  await (await twoChains(dir, 3)).close()
  const { chmod } = await import('node:fs/promises')
  await chmod(join(dir, 'audit', GW2 + '.jsonl'), 0o200)
  await t.rejects(FileAuditLog.openReadOnly({ dir }), { code: 'GOVEX_ERR_UNAVAILABLE', message: /cannot read the audit log in/ })
})
