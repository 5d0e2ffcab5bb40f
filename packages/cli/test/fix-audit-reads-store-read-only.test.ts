// PROTOCOL.md "Command line": `govex audit query|verify|export` read the
// configured store. On a file store the reader opened the log under an id of
// its own (govex-cli.reader-<pid>), which made an empty chain file in
// <store.dir>/audit; signal handlers removed it on Ctrl-C, but a SIGKILL left
// it there, where MODEL.md keeps only the gateways' chains and every gateway
// took it for one. The log is now opened read-only (core's
// FileAuditLog.openReadOnly): however the command ends, the store is as it was.
// Reading the members for checkpoint keys no longer removes temp files from
// members/ either (one could be a running gateway's write in progress).
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkpointKeysOf, checkpointSigner, FileAuditLog, FileMemberRegistry, parseDocument } from '@govex/core'
import type { AuditLog, AuditPage, AuditRecord, Member, PrivateJwk } from '@govex/core'
import { built, spawnGovex } from './helpers/child.js'
import { govex, tempDir } from './helpers/run.js'

const GW = 'city.gw.extranet-1'

interface Deployment { dir: string, config: string, data: string, audit: string, members: Member[] }

/** A deployment whose store holds `records` records of its gateway (checkpoints every 50, signed) and its members. */
async function deployment (t: Parameters<typeof tempDir>[0], records: number): Promise<Deployment> {
  const dir = await tempDir(t)
  t.equal((await govex(['init', dir])).code, 0)
  const data = join(dir, 'data')
  const parsed = parseDocument('members', await readFile(join(dir, 'members.json'), 'utf8'))
  if (!parsed.ok) throw new Error('init wrote no member list')
  const registry = await FileMemberRegistry.open({ dir: data })
  for (const m of parsed.value) await registry.put(m)
  const key = JSON.parse(await readFile(join(dir, 'keys', `${GW}.key.json`), 'utf8')) as PrivateJwk
  const log = await openGateway(data, key)
  await Promise.all(Array.from({ length: records }, async (_, i) => await log.append(i % 4 === 3
    ? { kind: 'admin', id: randomUUID(), actor: 'city.it-office', action: 'member.put', target: 'city.mca', digest: null, outcome: 'denied', code: 'GOVEX_ERR_INVALID_DOCUMENT', status: 422 }
    : { kind: 'exchange', id: randomUUID(), consumer: i % 2 === 0 ? 'city.mca' : 'city.hrss', provider: 'city.psb', resource: 'city.psb:household-registration', userId: `officer-${i}`, purpose: 'review', caseRef: `MCA-${i}`, plan: { id: 'city-sharing-plan', version: 1 }, grantId: 'mca-household', fields: ['name'], outcome: 'allowed', code: null, status: 200, latencyMs: i % 17, digests: null })))
  await log.close()
  return { dir, config: join(dir, 'govex.config.json'), data, audit: join(data, 'audit'), members: parsed.value }
}

async function openGateway (data: string, key: PrivateJwk): Promise<FileAuditLog> {
  return await FileAuditLog.open({ dir: data, gatewayId: GW, checkpoint: { every: 50, sign: checkpointSigner(key) } })
}

/** name → size of every file under the store's audit and members folders */
async function storeFiles (data: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const folder of ['audit', 'members']) {
    for (const name of (await readdir(join(data, folder))).sort()) out[`${folder}/${name}`] = (await stat(join(data, folder, name))).size
  }
  return out
}

async function collect (source: AsyncIterable<AuditRecord>): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for await (const r of source) out.push(r)
  return out
}

t.test('query, verify, stats and export answer as the gateway\'s own log, and leave the store as it was', async t => {
  const d = await deployment(t, 230)
  // a member write of a gateway in progress: its temp file, about to be renamed
  await writeFile(join(d.data, 'members', `.city.mca.json.${'0a1b2c3d4e5f'}.tmp`), '{"id":"city.mca"')
  const before = await storeFiles(d.data)
  // the gateway runs meanwhile, its log open
  const gateway = await FileAuditLog.open({ dir: d.data, gatewayId: GW })
  t.teardown(async () => { await gateway.close() })

  // query: every page through its --cursor
  const pages: AuditPage[] = []
  let cursor: string | undefined
  do {
    const r = await govex(['audit', 'query', '--config', d.config, '--consumer', 'city.mca', '--limit', '40', '--json', ...(cursor === undefined ? [] : ['--cursor', cursor])])
    t.equal(r.code, 0, r.stderr)
    const page = JSON.parse(r.stdout) as AuditPage
    pages.push(page)
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  const expected: AuditPage[] = []
  do {
    const page = await gateway.query({ consumer: 'city.mca' }, 40, cursor)
    expected.push(page)
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  t.same(pages, expected, 'query pages and cursors')
  t.ok(pages.length > 1)

  const verify = await govex(['audit', 'verify', '--config', d.config, '--json'])
  t.equal(verify.code, 0, verify.stdout + verify.stderr)
  const verified = JSON.parse(verify.stdout) as Awaited<ReturnType<AuditLog['verify']>>
  t.same(verified, await gateway.verify({ keys: checkpointKeysOf(d.members.filter(m => m.roles.includes('gateway'))) }), 'verify, checkpoints checked with the store\'s members')
  t.ok((verified.checkpoints ?? 0) > 0, 'the store\'s members were read for the checkpoint keys')

  const stats = await govex(['audit', 'stats', '--config', d.config, '--by', 'consumer', '--json'])
  t.equal(stats.code, 0, stats.stderr)
  t.same(JSON.parse(stats.stdout), await gateway.statistics('consumer', {}), 'stats')

  const exported = await govex(['audit', 'export', '--config', d.config])
  t.equal(exported.code, 0, exported.stderr)
  t.same(exported.stdout.trim().split('\n').map(l => JSON.parse(l) as AuditRecord), await collect(gateway.scan({})), 'export')

  t.same(await storeFiles(d.data), before, 'no file made, removed or changed in audit/ or members/')
})

if (built(t)) {
  for (const signal of ['SIGKILL', 'SIGINT', 'SIGTERM'] as const) {
    t.test(`${signal} in the middle of an export of a big log leaves the store as it was`, async t => {
      const d = await deployment(t, 6000)
      const before = await storeFiles(d.data)
      const { child, closed } = spawnGovex(['audit', 'export', '--config', d.config])
      // the first records are out: the export is streaming, its log open; then
      // nobody reads, so it waits on the full pipe with far more to write
      let got = 0
      await new Promise<void>(resolve => {
        child.stdout.once('data', (chunk: string) => {
          got += chunk.length
          child.stdout.pause()
          resolve()
        })
      })
      t.ok(got > 0, 'the export had started')
      t.ok(child.exitCode === null, 'and was still running')
      child.kill(signal)
      child.stdout.resume()
      const end = await closed
      t.ok(end.signal === signal || (end.code !== null && end.code !== 0), `the command ended by the signal (${String(end.signal ?? end.code)})`)
      t.same(await storeFiles(d.data), before, 'nothing left in audit/ (nor members/)')
    })
  }
}
