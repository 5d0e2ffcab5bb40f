// The local spool of audit records that Redis could not take: one JSONL file
// per gateway, fsync'd before an append resolves, replayed in order when Redis
// answers again. A torn last line (a crash mid-write) is dropped at open: its
// append never resolved, so nobody was told it was durable. A write that fails
// part-way is cut back off the file at once, and nothing is appended after
// torn bytes that could not be cut, so a torn line never ends up mid-file.
//
// The file is a queue read in order: memory holds the count, the last record
// (the chain goes on from it) and at most one batch read ahead for replay,
// however long the outage; open streams the file rather than reading it whole.
import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureFolder, folderProblem, GovexError, readLines, type AuditRecord } from '@govex/core'
import type { Sealed } from './audit-append.js'

/** How the spool opens its file; tests pass one that fails on purpose. */
export type OpenFile = (path: string, flags: string) => Promise<FileHandle>

interface Read {
  sealed: Sealed
  /** byte offset just past its line */
  end: number
  /** number of the line after it */
  next: number
}

/** read ahead for one replay batch (maxBatch records of a few hundred bytes), not the file log's 1 MiB */
const BLOCK = 64 * 1024

export class Spool {
  /** the file may hold bytes past `size` (a failed write not yet cut back): no append before they are gone */
  #torn = false
  /** records in the file that Redis has not acknowledged */
  #count: number
  #tail: AuditRecord | undefined
  /** read ahead for replay, not yet acknowledged: the oldest records of the file */
  #window: Read[] = []
  /** where reading for the window goes on: byte offset, line number (0: not known) */
  #readAt = 0
  #readLine = 1

  private constructor (readonly path: string, private readonly file: FileHandle, private size: number, count: number, tail: AuditRecord | undefined) {
    this.#count = count
    this.#tail = tail
  }

  /** Opens (or creates) `<dir>/<gatewayId>.jsonl`, checking every line it holds without keeping them. */
  static async open (dir: string, gatewayId: string, openFile: OpenFile = open): Promise<Spool> {
    try {
      await ensureFolder(dir)
    } catch (err) {
      throw new GovexError('GOVEX_ERR_BAD_REQUEST', `the audit spool folder ${dir} cannot be created (${folderProblem(err)}); set store.spoolDir to a folder this process can write`, { cause: err })
    }
    const path = join(dir, `${gatewayId}.jsonl`)
    const file = await openFile(path, 'a+')
    try {
      const { size } = await file.stat()
      let count = 0
      let tail: AuditRecord | undefined
      let end = 0
      for await (const read of readRecords(file, path, 0, size, 1)) {
        count++
        tail = read.sealed.record
        end = read.end
      }
      if (end < size) {
        await file.truncate(end)
        await file.datasync()
      }
      await syncDir(dir)
      return new Spool(path, file, end, count, tail)
    } catch (err) {
      await file.close()
      throw err
    }
  }

  /** nothing in the file: no record, and no torn bytes a failed write left (they must be cleared before the chain goes on from Redis) */
  get empty (): boolean {
    return this.size === 0 && !this.#torn
  }

  /** records in the file that Redis has not acknowledged */
  get count (): number {
    return this.#count
  }

  /** the last record written, while any is unacknowledged */
  get tail (): AuditRecord | undefined {
    return this.#count > 0 ? this.#tail : undefined
  }

  /** records held in memory (read ahead for replay) */
  get window (): number {
    return this.#window.length
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
    this.#count += records.length
    const last = records[records.length - 1]
    if (last !== undefined) this.#tail = last.record
  }

  /** The oldest `n` unacknowledged records, in file order (read from the file as needed). */
  async peek (n: number): Promise<Sealed[]> {
    if (this.#window.length < n && this.#readAt < this.size) {
      for await (const read of readRecords(this.file, this.path, this.#readAt, this.size, this.#readLine)) {
        this.#window.push(read)
        this.#readAt = read.end
        this.#readLine = read.next
        if (this.#window.length >= n) break
      }
    }
    return this.#window.slice(0, n).map(r => r.sealed)
  }

  /** The oldest `n` records are in Redis; the file is cleared once none is left (which may reject: they are acknowledged all the same). */
  async shift (n: number): Promise<void> {
    this.#window.splice(0, n)
    this.#count = Math.max(0, this.#count - n)
    if (this.#count === 0) {
      // nothing before `size` is read again, even if the clear fails
      if (this.#readAt !== this.size) this.#readLine = 0
      this.#window = []
      this.#readAt = this.size
      await this.clear()
    }
  }

  /** Drops the oldest records up to seq `seq` (Redis holds them already), reading `batch` at a time. */
  async dropThrough (seq: number, batch: number): Promise<void> {
    if (this.#count === 0) return
    if (this.#tail !== undefined && this.#tail.seq <= seq) {
      await this.shift(this.#count)
      return
    }
    for (;;) {
      const oldest = await this.peek(batch)
      const keep = oldest.findIndex(s => s.record.seq > seq)
      if (keep === 0 || oldest.length === 0) return
      await this.shift(keep < 0 ? oldest.length : keep)
      if (keep > 0) return
    }
  }

  /** Called once every spooled record is in Redis. */
  async clear (): Promise<void> {
    await this.file.truncate(0)
    await this.file.datasync()
    this.size = 0
    this.#torn = false
    this.#count = 0
    this.#tail = undefined
    this.#window = []
    this.#readAt = 0
    this.#readLine = 1
  }

  async #cutBack (): Promise<void> {
    await this.file.truncate(this.size)
    await this.file.datasync()
    this.#torn = false
  }

  async close (): Promise<void> {
    await this.file.close()
  }
}

/**
 * The records on whole lines of `file` between byte `from` and `to`; a line
 * cut off by `to` is not yielded (the caller knows from the last `end` where
 * whole lines stop).
 */
async function * readRecords (file: FileHandle, path: string, from: number, to: number, firstLine: number): AsyncGenerator<Read> {
  let lineNo = firstLine
  for await (const line of readLines(file, from, to, BLOCK)) {
    if (!line.complete) return
    const sealed = parseLine(line.text, path, lineNo, line.offset)
    if (lineNo > 0) lineNo++
    if (sealed !== undefined) yield { sealed, end: line.offset + line.bytes + 1, next: lineNo }
  }
}

/**
 * One spooled line as a record. A line that is not JSON is a write torn by an
 * older version that went on appending after it: the torn bytes were never
 * acknowledged, the whole record after them was, so that one is kept.
 */
function parseLine (line: string, path: string, lineNo: number, offset: number): Sealed | undefined {
  if (line === '') return undefined
  let whole: unknown
  try {
    whole = JSON.parse(line)
  } catch {}
  if (isRecord(whole)) return { record: whole, line }
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
  throw new GovexError('GOVEX_ERR_UNAVAILABLE', `the audit spool ${path} cannot be read: ${lineNo > 0 ? `line ${lineNo}` : `the line at byte ${offset}`} is not an audit record; repair or remove that line, then start again (every other record in the file is not in Redis yet and is replayed)`)
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
