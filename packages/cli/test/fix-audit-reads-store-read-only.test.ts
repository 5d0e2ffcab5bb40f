// PROTOCOL.md "Command line": `govex audit query|verify|export` read the
// configured store. On a file store the reader opens the log under an id of its
// own (govex-cli.reader-<pid>), which makes an empty chain file it removes on
// close; a Ctrl-C (or SIGTERM) during a long export or verify left that file in
// <store.dir>/audit/, where MODEL.md keeps only the gateways' chains and where
// every later start, verify and query of the gateway took it for one. The file
// is now removed on those signals (the command still ends by the signal), and
// one left by a reader that was killed outright is removed by the next reader.
import t from 'tap'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FileAuditLog } from '@govex/core'
import { govex, tempDir } from './helpers/run.js'

const BIN = fileURLToPath(new URL('../bin/govex.js', import.meta.url))
const DIST = fileURLToPath(new URL('../dist/main.js', import.meta.url))

async function deployment (t: Parameters<typeof tempDir>[0], records: number): Promise<{ config: string, audit: string }> {
  const dir = await tempDir(t)
  t.equal((await govex(['init', dir])).code, 0)
  const log = await FileAuditLog.open({ dir: join(dir, 'data'), gatewayId: 'city.gw.extranet-1' })
  await Promise.all(Array.from({ length: records }, async () => await log.append({ kind: 'admin', id: randomUUID(), actor: 'city.it-office', action: 'member.put', target: 'city.mca', digest: null, outcome: 'denied', code: 'GOVEX_ERR_INVALID_DOCUMENT', status: 422 })))
  await log.close()
  return { config: join(dir, 'govex.config.json'), audit: join(dir, 'data', 'audit') }
}

const readers = async (audit: string): Promise<string[]> => (await readdir(audit)).filter(f => f.startsWith('govex-cli.reader-'))

async function until (check: () => Promise<boolean>, ms = 30_000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return false
}

if (!existsSync(DIST)) {
  t.skip(`packages/cli/dist/main.js is missing: run "npx tsc -b" at the repository root (${BIN})`)
} else {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    t.test(`${signal} during an export blocked on its reader leaves no reader file`, async t => {
      const { config, audit } = await deployment(t, 2000)
      // stdout is a pipe nobody reads: the export fills it and waits, holding its reader open
      const child = spawn(process.execPath, [BIN, 'audit', 'export', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout.pause()
      const closed = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => { child.once('close', (code, sig) => { resolve({ code, signal: sig }) }) })
      t.ok(await until(async () => (await readers(audit)).length > 0), 'the reader opened the log')
      child.kill(signal)
      child.stdout.resume()
      const end = await closed
      t.ok(end.signal === signal || (end.code !== null && end.code !== 0), `the command ended by the signal (${String(end.signal ?? end.code)})`)
      t.same(await readers(audit), [], 'no reader file left in the audit folder')
    })
  }

  t.test('an empty reader file left by a reader killed outright is removed by the next reader', async t => {
    const { config, audit } = await deployment(t, 3)
    // a pid that is no running process
    const stale = join(audit, 'govex-cli.reader-2147483646.jsonl')
    await writeFile(stale, '')
    const r = await govex(['audit', 'verify', '--config', config])
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, /^ok: 3 records/)
    t.same(await readers(audit), [])
  })
}
