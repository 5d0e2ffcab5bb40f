// Opening the audit log a config names, without a gateway: the file log or the
// Redis streams, read with the same AuditLog interface the gateway writes with.
//
// A file store's log is opened read-only (core's FileAuditLog.openReadOnly):
// no chain of its own, nothing created, cut or opened for writing in
// <store.dir>/audit, where MODEL.md keeps only the gateways' chains — so
// however the command ends (a Ctrl-C, a SIGKILL mid-export) it leaves nothing
// behind. A Redis store is opened with @govex/redis's openRedisAuditReader,
// not the gateway's openRedisStores: that one subscribes to the change
// channel, reads a chain head of its own and would replay a spool, so it
// needed the gateway's Redis rights; the reader opens one connection, never
// subscribes and writes no key, so an auditor's Redis user needs only the read
// commands of docs/operator-guide.md ("A Redis user for auditors").
//
// The members (whose gateway keys check the checkpoints) are read the same
// way: core's FileMemberRegistry.open removes the temp files a crash left in
// members/, which beside a running gateway could be the one it is writing.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FileAuditLog, isGovexError, isMemberId, verifyFile } from '@govex/core'
import type { AuditLog, AuditVerifyResult, CheckpointKeys, Member } from '@govex/core'
import type { ResolvedConfig } from './config.js'
import { CliError } from './errors.js'

export interface AuditSource {
  audit: AuditLog
  /** the store's members: the gateways' keys check their checkpoints */
  members (): Promise<Member[]>
  close (): Promise<void>
}

export async function openAuditSource (config: ResolvedConfig): Promise<AuditSource> {
  const store = config.store
  if (store.kind === 'file') {
    let audit: AuditLog
    try {
      audit = await FileAuditLog.openReadOnly({ dir: store.dir })
    } catch (e) {
      if (isGovexError(e) && e.code === 'GOVEX_ERR_NOT_FOUND') throw new CliError(`there is no audit log in ${store.dir}: has a gateway run with this config (store.dir)?`)
      throw e
    }
    return {
      audit,
      members: async () => await readMembers(join(store.dir, 'members')),
      close: async () => { await audit.close() }
    }
  }
  // loaded only for Redis deployments
  const { openRedisAuditReader } = await import('@govex/redis')
  // the name tells its connection apart in CLIENT LIST
  const reader = await openRedisAuditReader({ url: store.url, prefix: store.prefix, name: `govex-cli.reader-${process.pid}` })
  return { audit: reader.audit, members: async () => await reader.members(), close: async () => { await reader.close() } }
}

/** The stored members, read as the file store reads them (`<id>.json`, the id matching its name), touching nothing. */
async function readMembers (folder: string): Promise<Member[]> {
  let names: string[]
  try {
    names = await readdir(folder)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  const members: Member[] = []
  for (const name of names.sort()) {
    if (!name.endsWith('.json') || !isMemberId(name.slice(0, -5))) continue
    const path = join(folder, name)
    let member: Member
    try {
      member = JSON.parse(await readFile(path, 'utf8')) as Member
    } catch (e) {
      throw new CliError(`cannot read the member ${path} (${(e as Error).message}); fix the file, or pass --members <members.json>`)
    }
    if (typeof member !== 'object' || member === null || member.id !== name.slice(0, -5)) throw new CliError(`${path} does not hold the member ${name.slice(0, -5)}; fix the file, or pass --members <members.json>`)
    members.push(member)
  }
  return members
}

/** Verifies an exported NDJSON file offline, every gateway chain in it. */
export async function verifyExportFile (file: string, keys: CheckpointKeys | undefined, onLines?: (n: number) => void): Promise<AuditVerifyResult> {
  try {
    return await verifyFile(file, { keys }, onLines)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') throw new CliError(`cannot read ${file} (${code}); pass the path of an NDJSON export`)
    throw e
  }
}
