// The local spool of audit records that Redis could not take: one JSONL file
// per gateway, fsync'd before an append resolves, replayed in order when Redis
// answers again. A torn last line (a crash mid-write) is dropped at open: its
// append never resolved, so nobody was told it was durable. A write that fails
// part-way is cut back off the file at once, and nothing is appended after
// torn bytes that could not be cut, so a torn line never ends up mid-file.
import { mkdir, open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { GovexError, type AuditRecord } from '@govex/core'
import type { Sealed } from './audit-append.js'

/** How the spool opens its file; tests pass one that fails on purpose. */
export type OpenFile = (path: string, flags: string) => Promise<FileHandle>

export class Spool {
  /** the file may hold bytes past `size` (a failed write not yet cut back): no append before they are gone */
  #torn = false

  private constructor (readonly path: string, private readonly file: FileHandle, private size: number) {}

  /** Opens (or creates) `<dir>/<gatewayId>.jsonl` and returns the records it holds. */
  static async open (dir: string, gatewayId: string, openFile: OpenFile = open): Promise<{ spool: Spool, records: Sealed[] }> {
    await mkdir(dir, { recursive: true })
    const path = join(dir, `${gatewayId}.jsonl`)
    const file = await openFile(path, 'a+')
    try {
      const text = (await file.readFile()).toString('utf8')
      const end = text.lastIndexOf('\n') + 1
      if (end < text.length) {
        await file.truncate(end)
        await file.datasync()
      }
      const records: Sealed[] = []
      const lines = text.slice(0, end).split('\n')
      for (let i = 0; i < lines.length; i++) {
        const sealed = parseLine(lines[i] as string, path, i + 1)
        if (sealed !== undefined) records.push(sealed)
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

  /** Appends and fsyncs `records`; when it rejects, none of them is in the file. */
  async write (records: readonly Sealed[]): Promise<void> {
    let text = ''
    for (const { record, line } of records) text += (line ?? JSON.stringify(record)) + '\n'
    if (this.#torn) await this.#cutBack()
    try {
      await this.file.appendFile(text)
      await this.file.datasync()
    } catch (err) {
      // part of `text` may be in the file (a full disk): cut it off, or refuse
      // every later append until it can be, so no line is ever written after it
      this.#torn = true
      await this.#cutBack().catch(() => {})
      throw err
    }
    this.size += Buffer.byteLength(text)
  }

  async #cutBack (): Promise<void> {
    await this.file.truncate(this.size)
    await this.file.datasync()
    this.#torn = false
  }

  /** Called once every spooled record is in Redis. */
  async clear (): Promise<void> {
    await this.file.truncate(0)
    await this.file.datasync()
    this.size = 0
    this.#torn = false
  }

  async close (): Promise<void> {
    await this.file.close()
  }
}

/**
 * One spooled line as a record. A line that is not JSON is a write torn by an
 * older version that went on appending after it: the torn bytes were never
 * acknowledged, the whole record after them was, so that one is kept.
 */
function parseLine (line: string, path: string, lineNo: number): Sealed | undefined {
  if (line === '') return undefined
  try {
    return { record: JSON.parse(line) as AuditRecord, line }
  } catch {}
  // only the start of the whole record parses through to the end of the line
  for (let at = line.indexOf('{', 1); at > 0; at = line.indexOf('{', at + 1)) {
    const rest = line.slice(at)
    let record: unknown
    try {
      record = JSON.parse(rest)
    } catch {
      continue
    }
    if (isRecord(record)) return { record, line: rest }
  }
  throw new GovexError('GOVEX_ERR_UNAVAILABLE', `the audit spool ${path} cannot be read: line ${lineNo} is not an audit record; move the file aside to start (its records are not in Redis)`)
}

function isRecord (value: unknown): value is AuditRecord {
  const v = value as Partial<AuditRecord> | null
  return typeof v === 'object' && v !== null && typeof v.seq === 'number' && typeof v.hash === 'string'
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
