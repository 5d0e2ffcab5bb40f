// The local spool of audit records that Redis could not take: one JSONL file
// per gateway, fsync'd before an append resolves, replayed in order when Redis
// answers again. A torn last line (a crash mid-write) is dropped at open: its
// append never resolved, so nobody was told it was durable.
import { mkdir, open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { AuditRecord } from '@govex/core'
import type { Sealed } from './audit-append.js'

export class Spool {
  private constructor (readonly path: string, private readonly file: FileHandle, private size: number) {}

  /** Opens (or creates) `<dir>/<gatewayId>.jsonl` and returns the records it holds. */
  static async open (dir: string, gatewayId: string): Promise<{ spool: Spool, records: Sealed[] }> {
    await mkdir(dir, { recursive: true })
    const path = join(dir, `${gatewayId}.jsonl`)
    const file = await open(path, 'a+')
    try {
      const text = (await file.readFile()).toString('utf8')
      const end = text.lastIndexOf('\n') + 1
      if (end < text.length) {
        await file.truncate(end)
        await file.datasync()
      }
      const records: Sealed[] = []
      for (const line of text.slice(0, end).split('\n')) {
        if (line !== '') records.push({ record: JSON.parse(line) as AuditRecord, line })
      }
      await syncDir(dir)
      return { spool: new Spool(path, file, end), records }
    } catch (err) {
      await file.close()
      throw err
    }
  }

  get empty (): boolean {
    return this.size === 0
  }

  async write (records: readonly Sealed[]): Promise<void> {
    let text = ''
    for (const { record, line } of records) text += (line ?? JSON.stringify(record)) + '\n'
    await this.file.appendFile(text)
    await this.file.datasync()
    this.size += Buffer.byteLength(text)
  }

  /** Called once every spooled record is in Redis. */
  async clear (): Promise<void> {
    await this.file.truncate(0)
    await this.file.datasync()
    this.size = 0
  }

  async close (): Promise<void> {
    await this.file.close()
  }
}

async function syncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } catch {
    // some file systems refuse fsync on a directory; the file's own fsync still holds
  } finally {
    await handle.close()
  }
}
