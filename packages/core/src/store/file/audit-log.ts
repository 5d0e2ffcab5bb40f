// The embedded store's audit log (MODEL.md "Audit record"): this gateway's
// chain appended to <dir>/audit/<gatewayId>.jsonl, one record a line, made
// durable by group commit — appends that arrive while a write + fsync is in
// flight go out together in the next one, so the cost of fsync is shared
// (ARCHITECTURE.md: "fsync'd in small batches"). Reads cover every chain in the
// folder through an in-memory index built on the first query (not at open:
// a gateway starts at once, and an export streams the files without it) and
// kept up on append; only
// the records a page returns are read from disk.
//
// On Linux, appends go through their own descriptor opened O_DSYNC, so a batch
// is made durable by one trip to libuv's thread pool (the write) instead of two
// (write, then fdatasync): bench/micro, 64 appenders, 15.9 µs of CPU an append
// against 18.1 on the bench VM. Elsewhere a write then fdatasync, as
// before: on macOS libuv's fdatasync is F_FULLFSYNC, which flushes the drive's
// cache and an O_DSYNC write does not.
//
// openReadOnly() is the auditor's view (`govex audit` beside running
// gateways): every chain read where it stands, nothing created, cut or
// opened for writing, appends refused.
import { close as closeFd, constants as fsConstants, open as openFd, write as writeFd } from 'node:fs'
import { open, readdir, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { ZERO_DIGEST } from '../../canonical.js'
import { GovexError } from '../../codes.js'
import { isMemberId } from '../../ids.js'
import type { AuditEntry, AuditRecord } from '../../schemas/audit.js'
import type { AuditFilter, AuditLog, AuditPage, AuditStats, AuditStatsBy, AuditVerifyOptions, AuditVerifyResult, ChainHead } from '../types.js'
import { nextTimestamp, sealLine, type SealedRecord } from '../../audit/chain.js'
import { checkCheckpointOptions, checkpointAfter, type CheckpointOptions } from '../../audit/checkpoint.js'
import { ChainVerifier, pushStoredLine, verifyResult } from '../../audit/verify.js'
import { verifyStoredChains } from '../../audit/verify-stored.js'
import { eachLine } from '../../audit/line-scan.js'
import { ColumnIndex, rowFieldsOf, rowFieldsOfLine, type IndexedRow, type RowFields } from '../../audit/column-index.js'
import { bytesAre, LineFields, NEWLINE, readLine, releaseBuffer } from '../../audit/canonical-line.js'
import { queryIndex, scanIndex } from '../../audit/paging.js'
import { compareRecords, matchesFilter, normalizeFilter } from '../../audit/query.js'
import { readLineBatches, readLineChunks, Spares } from '../../audit/lines.js'
import { checkVerifyThreads } from '../../audit/verify-pool.js'
import { ensureFolder } from './atomic.js'
import { statsFilter, statsOf } from '../../audit/stats.js'

export interface FileAuditLogOptions {
  /** the store's data folder; the log lives in its `audit` folder */
  dir: string
  gatewayId: string
  /** most records one write + fsync carries (default 512) */
  maxBatch?: number
  /** clock in ms (tests) */
  now?: () => number
  /** append a signed checkpoint every `every` records */
  checkpoint?: CheckpointOptions | undefined
  /**
   * worker threads a whole-log verify checks its reads on (0: none). Default:
   * one per core, at most 4, for logs of 32 MB or more; none below.
   */
  verifyThreads?: number | undefined
  /**
   * how a batch is made durable: `dsync`, one write to a descriptor opened
   * O_DSYNC (the default on Linux), or `fdatasync`, a write then fdatasync (the
   * default elsewhere)
   */
  durability?: 'dsync' | 'fdatasync' | undefined
}

/** The read-only log: every chain in `<dir>/audit`, read as it is. */
export interface FileAuditReadOptions {
  /** the store's data folder; the log is its `audit` folder, which must exist */
  dir: string
  /** as for FileAuditLogOptions */
  verifyThreads?: number | undefined
}

/** Where a checkpoint's line is: range verification starts there. */
interface CheckpointMark {
  ts: string
  offset: number
}

interface ChainFile {
  gatewayId: string
  path: string
  fh: FileHandle
  /** in file order (so by ts: ts never goes back within a chain) */
  checkpoints: CheckpointMark[]
}

/** What only a writable log has: its own chain and where its batches go. */
interface Writer {
  own: ChainFile
  /** the own file's place in `files` (its number in the index); files never change after open */
  ownNumber: number
  durableFile: DurableFile
}

/** A record made durable, for the index: its fields and where its line is. */
interface Written {
  fields: RowFields
  offset: number
  bytes: number
}

interface Pending {
  /** not handed to the caller before it is durable, so read as sealed when written */
  record: AuditRecord
  line: string
  resolve: (record: AuditRecord) => void
  reject: (error: Error) => void
}

export interface FileAuditLogStats {
  /** records made durable */
  records: number
  /** write + fsync rounds it took */
  batches: number
}

const DEFAULT_MAX_BATCH = 512
/** bytes between two wanted lines that one read may span */
const READ_GAP = 16 * 1024
/** bytes one read may take */
const READ_MAX = 1024 * 1024

function checkOptions (options: FileAuditLogOptions): number {
  if (typeof options.dir !== 'string' || options.dir === '') {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', 'file audit log needs `dir`, the store\'s data folder')
  }
  if (!isMemberId(options.gatewayId)) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `audit log gatewayId must be a member id like tj.gw.extranet-1, got ${JSON.stringify(options.gatewayId)}`)
  }
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `audit log maxBatch must be a positive integer, got ${String(options.maxBatch)}`)
  }
  checkVerifyThreads(options.verifyThreads)
  return maxBatch
}

function checkReadOptions (options: FileAuditReadOptions): void {
  if (typeof options.dir !== 'string' || options.dir === '') {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', 'file audit log needs `dir`, the store\'s data folder')
  }
  checkVerifyThreads(options.verifyThreads)
}

function unavailable (message: string, cause?: unknown): GovexError {
  return new GovexError('GOVEX_ERR_UNAVAILABLE', message, { cause })
}

/** A chain file's records that match `filter`, in file order (so in listing order within the chain). */
async function * fileRecords (file: ChainFile, end: number | undefined, filter: AuditFilter): AsyncGenerator<AuditRecord, undefined> {
  const stop = end ?? (await file.fh.stat()).size
  const start = filter.from === undefined ? 0 : await firstLineFrom(file.fh, stop, filter.from)
  for await (const batch of readLineBatches(file.fh, start, stop)) {
    for (const line of batch.lines) {
      if (line === '') continue
      let record: unknown
      try {
        record = JSON.parse(line)
      } catch {
        continue
      }
      const r = record as Partial<AuditRecord>
      // what the index would skip, the stream skips too
      if (typeof r !== 'object' || r === null || typeof r.ts !== 'string' || typeof r.gatewayId !== 'string' || typeof r.seq !== 'number') continue
      if (matchesFilter(r as AuditRecord, filter)) yield r as AuditRecord
    }
  }
  return undefined
}

const TAIL_WINDOW = 1 << 16
const PROBE_BYTES = 4096

/**
 * Where the first line with `ts` ≥ `from` starts in a chain file (or `end`):
 * `ts` never goes back along a chain, so a binary search over byte positions
 * finds it in ~log2(size) small reads — a restart reads its replay window back,
 * and `export --from` starts at its day, without reading the log before it.
 * A line that cannot be read counts as "at or after" (the search moves left),
 * so the answer can only start earlier than needed, never later.
 */
async function firstLineFrom (fh: FileHandle, end: number, from: string): Promise<number> {
  // the first line starting at or after byte p, and whether it is at or after `from`
  const probe = async (p: number): Promise<{ start: number, after: boolean }> => {
    let start = p
    let buf = Buffer.allocUnsafe(PROBE_BYTES)
    if (p > 0) {
      // the line containing byte p - 1 ends at the first newline from there
      for (let at = p - 1; ; at += PROBE_BYTES) {
        if (at >= end) return { start: end, after: true }
        const { bytesRead } = await fh.read(buf, 0, Math.min(PROBE_BYTES, end - at), at)
        const nl = buf.subarray(0, bytesRead).indexOf(NEWLINE)
        if (nl !== -1) {
          start = at + nl + 1
          break
        }
        if (bytesRead === 0) return { start: end, after: true }
      }
    }
    if (start >= end) return { start: end, after: true }
    // the line itself, however long
    for (let size = PROBE_BYTES; ; size *= 4) {
      if (buf.length < size) buf = Buffer.allocUnsafe(size)
      const { bytesRead } = await fh.read(buf, 0, Math.min(size, end - start), start)
      const nl = buf.subarray(0, bytesRead).indexOf(NEWLINE)
      if (nl === -1 && start + bytesRead < end) continue
      let ts: unknown
      try {
        ts = (JSON.parse(buf.toString('utf8', 0, nl === -1 ? bytesRead : nl)) as { ts?: unknown }).ts
      } catch {
        ts = undefined
      }
      return { start, after: typeof ts !== 'string' || ts >= from }
    }
  }
  let lo = 0
  let hi = end
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2)
    if ((await probe(mid)).after) hi = mid
    else lo = mid + 1
  }
  return (await probe(lo)).start
}

/** Where a batch goes: each `write` is durable when it resolves, and answers the bytes it wrote. */
interface DurableFile {
  write (buf: Buffer, offset: number, length: number): Promise<number>
  close (): Promise<void>
}

/**
 * The chain's file for appends: on Linux its own descriptor opened O_APPEND |
 * O_DSYNC, so a write returns once durable; elsewhere (or when asked) the read
 * handle's write followed by fdatasync.
 */
async function durableFile (path: string, fh: FileHandle, durability: 'dsync' | 'fdatasync'): Promise<DurableFile> {
  const dsync = fsConstants.O_DSYNC as number | undefined
  if (durability === 'fdatasync' || dsync === undefined) {
    return {
      async write (buf, offset, length) {
        const { bytesWritten } = await fh.write(buf, offset, length)
        await fh.datasync()
        return bytesWritten
      },
      async close () {}
    }
  }
  const fd = await new Promise<number>((resolve, reject) => {
    openFd(path, fsConstants.O_WRONLY | fsConstants.O_APPEND | dsync, (err, fd) => { if (err === null) resolve(fd); else reject(err) })
  })
  return {
    async write (buf, offset, length) {
      return await new Promise((resolve, reject) => {
        writeFd(fd, buf, offset, length, null, (err, written) => { if (err === null) resolve(written); else reject(err) })
      })
    },
    async close () {
      await new Promise<void>(resolve => { closeFd(fd, () => { resolve() }) })
    }
  }
}

/**
 * The head of a chain from its file's last lines, read from the end: opening
 * costs the same at 10 records or 10 million. A torn last line (a crash in
 * the middle of a write, never acknowledged) is cut off, and the chain goes
 * on from the last whole record.
 */
async function chainTail (file: ChainFile): Promise<{ head: ChainHead, lastTs: string | undefined, size: number }> {
  let size = (await file.fh.stat()).size
  for (let window = TAIL_WINDOW; ; window *= 4) {
    const from = Math.max(0, size - window)
    const buf = Buffer.allocUnsafe(size - from)
    const { bytesRead } = await file.fh.read(buf, 0, buf.length, from)
    let end = bytesRead
    if (end > 0 && buf[end - 1] !== 10) {
      const nl = buf.lastIndexOf(10, end - 1)
      if (nl === -1 && from > 0) continue
      end = nl + 1
      size = from + end
      await file.fh.truncate(size)
      await file.fh.datasync()
    }
    let e = end
    while (e > 0 && buf[e - 1] === 10) e--
    if (e === 0) {
      if (from > 0) continue
      return { head: { seq: 0, hash: ZERO_DIGEST }, lastTs: undefined, size }
    }
    const s = buf.lastIndexOf(10, e - 1) + 1
    if (s === 0 && from > 0) continue
    let record: Partial<AuditRecord> | undefined
    try {
      record = JSON.parse(buf.toString('utf8', s, e)) as Partial<AuditRecord>
    } catch {
      record = undefined
    }
    if (typeof record !== 'object' || record === null || typeof record.seq !== 'number' || typeof record.hash !== 'string' || typeof record.ts !== 'string') {
      throw unavailable(`the last record of ${file.path} (at byte ${from + s}) is unreadable, so its chain cannot go on; run \`govex audit verify\` and restore the file from a backup`)
    }
    return { head: { seq: record.seq, hash: record.hash }, lastTs: record.ts, size }
  }
}

/** A record this log made durable, into the index built from the files. */
function addWritten (writer: Writer, index: ColumnIndex, written: Written): void {
  index.addFields(written.fields, writer.ownNumber, written.offset, written.bytes)
  if (written.fields.kind === 'checkpoint') writer.own.checkpoints.push({ ts: written.fields.ts, offset: written.offset })
}

export class FileAuditLog implements AuditLog {
  /** this gateway's id; '' for a read-only log, which has no chain of its own */
  readonly gatewayId: string
  /** this gateway's chain file; the audit folder for a read-only log */
  readonly path: string
  /** opened with openReadOnly(): reads only, appends refused */
  readonly readOnly: boolean
  readonly stats: FileAuditLogStats = { records: 0, batches: 0 }
  private readonly maxBatch: number
  private readonly now: () => number
  private readonly checkpoint: CheckpointOptions | undefined
  private readonly verifyThreads: number | undefined
  /** this gateway's chain file (null when read-only: every file is another's) */
  private readonly own: ChainFile | null
  /** null when read-only */
  private readonly writer: Writer | null
  /** every chain in the folder, by gatewayId */
  private readonly files: ChainFile[]
  /** null until the first query needs it */
  private index: ColumnIndex | null = null
  private indexing: Promise<ColumnIndex> | null = null
  /** records made durable while the index is being built */
  private pendingWrites: Written[] | null = null
  /** how long the index took to build, in ms (a figure for operators and the bench) */
  indexBuildMs: number | null = null
  /** head of the chain as assigned: records queued or in flight included */
  private assigned: ChainHead
  private assignedTs: string | undefined
  /** head, size and last ts of what is on disk and fsync'd */
  private durable: ChainHead
  private durableTs: string | undefined
  private durableSize: number
  private queue: Pending[] = []
  private writing: Promise<void> | null = null
  private closed = false
  private closing: Promise<void> | null = null
  /** set when the file can no longer be put right (a failed write that could not be undone) */
  private broken: GovexError | null = null

  private constructor (init: {
    gatewayId: string, path: string, maxBatch: number, now: () => number, checkpoint: CheckpointOptions | undefined, verifyThreads: number | undefined, files: ChainFile[],
    writer: Writer | null, head: ChainHead, lastTs: string | undefined, size: number
  }) {
    this.gatewayId = init.gatewayId
    this.path = init.path
    this.readOnly = init.writer === null
    this.maxBatch = init.maxBatch
    this.now = init.now
    this.checkpoint = init.checkpoint
    this.verifyThreads = init.verifyThreads
    this.writer = init.writer
    this.own = init.writer?.own ?? null
    this.files = init.files
    this.assigned = init.head
    this.durable = init.head
    this.assignedTs = init.lastTs
    this.durableTs = init.lastTs
    this.durableSize = init.size
  }

  /**
   * Opens (creating it if need be) this gateway's log and indexes every chain
   * in the folder. A torn last line of this gateway's file — a crash in the
   * middle of a write, never acknowledged — is cut off, and the chain goes on
   * from the last whole record.
   */
  static async open (options: FileAuditLogOptions): Promise<FileAuditLog> {
    const maxBatch = checkOptions(options)
    const checkpoint = checkCheckpointOptions(options.checkpoint)
    const folder = join(options.dir, 'audit')
    const opened: FileHandle[] = []
    try {
      await ensureFolder(folder)
      const names = new Set((await readdir(folder)).filter(n => n.endsWith('.jsonl')).map(n => n.slice(0, -6)).filter(isMemberId))
      names.add(options.gatewayId)
      const files: ChainFile[] = []
      for (const gatewayId of [...names].sort()) {
        const path = join(folder, gatewayId + '.jsonl')
        // a+ so this gateway's handle both appends (O_APPEND) and reads at offsets
        const fh = await open(path, gatewayId === options.gatewayId ? 'a+' : 'r')
        opened.push(fh)
        files.push({ gatewayId, path, fh, checkpoints: [] })
      }
      const own = files.find(f => f.gatewayId === options.gatewayId) as ChainFile
      const { head, lastTs, size } = await chainTail(own)
      // opened after chainTail, which may cut a torn last line off
      const durable = await durableFile(own.path, own.fh, options.durability ?? (process.platform === 'linux' ? 'dsync' : 'fdatasync'))
      const now = options.now ?? Date.now
      const writer = { own, ownNumber: files.indexOf(own), durableFile: durable }
      return new FileAuditLog({ gatewayId: options.gatewayId, path: own.path, maxBatch, now, checkpoint, verifyThreads: options.verifyThreads, files, writer, head, lastTs, size })
    } catch (err) {
      await Promise.allSettled(opened.map(async fh => { await fh.close() }))
      if (err instanceof GovexError) throw err
      throw unavailable(`cannot open the audit log in ${folder}: ${(err as Error).message}; check that the folder exists and is writable`, err)
    }
  }

  /**
   * Opens every chain in `<dir>/audit` for reading only, as an auditor beside
   * running gateways must: no chain of its own, no file created, cut or
   * opened for writing, and no folder made (GOVEX_ERR_NOT_FOUND when there is
   * none). Queries, scans, verify and statistics read every chain as any
   * gateway reads the others'; append rejects with GOVEX_ERR_UNAVAILABLE.
   * The chains are those present now: one a new gateway starts later is seen
   * by the next open.
   */
  static async openReadOnly (options: FileAuditReadOptions): Promise<FileAuditLog> {
    checkReadOptions(options)
    const folder = join(options.dir, 'audit')
    const opened: FileHandle[] = []
    try {
      let entries: string[]
      try {
        entries = await readdir(folder)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || code === 'ENOTDIR') throw new GovexError('GOVEX_ERR_NOT_FOUND', `there is no audit log in ${folder}: no gateway has written one with this store.dir`, { cause: err })
        throw err
      }
      const files: ChainFile[] = []
      for (const gatewayId of entries.filter(n => n.endsWith('.jsonl')).map(n => n.slice(0, -6)).filter(isMemberId).sort()) {
        const path = join(folder, gatewayId + '.jsonl')
        const fh = await open(path, 'r')
        opened.push(fh)
        files.push({ gatewayId, path, fh, checkpoints: [] })
      }
      return new FileAuditLog({ gatewayId: '', path: folder, maxBatch: DEFAULT_MAX_BATCH, now: Date.now, checkpoint: undefined, verifyThreads: options.verifyThreads, files, writer: null, head: { seq: 0, hash: ZERO_DIGEST }, lastTs: undefined, size: 0 })
    } catch (err) {
      await Promise.allSettled(opened.map(async fh => { await fh.close() }))
      if (err instanceof GovexError) throw err
      throw unavailable(`cannot read the audit log in ${folder}: ${(err as Error).message}; check that this user may read the folder and its files`, err)
    }
  }

  /** this gateway's chain head; seq 0 and the zero digest for a read-only log (it has no chain) */
  head (): ChainHead {
    return { seq: this.assigned.seq, hash: this.assigned.hash }
  }

  /**
   * Seals the entry at once (so seq and prevHash follow the order of calls)
   * and resolves once its line is written and fsync'd.
   */
  append (entry: AuditEntry): Promise<AuditRecord> {
    const writer = this.writer
    if (writer === null) return Promise.reject(unavailable(`the audit log in ${this.path} was opened read-only (an auditor's view); records are appended by a gateway, through its own log`))
    if (this.broken !== null) return Promise.reject(this.broken)
    if (this.closed) return Promise.reject(unavailable(`the audit log ${this.path} is closed; open the store again`))
    let sealed: SealedRecord
    let checkpoint: SealedRecord | undefined
    try {
      const ts = nextTimestamp(this.now(), this.assignedTs)
      sealed = sealLine(entry, { gatewayId: this.gatewayId, seq: this.assigned.seq + 1, ts, prevHash: this.assigned.hash })
      checkpoint = checkpointAfter(sealed.record, this.checkpoint)
    } catch (err) {
      return Promise.reject(err)
    }
    const { record, line } = sealed
    const last = checkpoint?.record ?? record
    this.assigned = { seq: last.seq, hash: last.hash }
    this.assignedTs = last.ts
    return new Promise((resolve, reject) => {
      this.enqueue(record, line, resolve, reject)
      // the checkpoint goes out in the same write as the record it signs
      if (checkpoint !== undefined) this.enqueue(checkpoint.record, checkpoint.line, () => {}, reject)
      // The first write waits one microtask, so appends made in the same tick
      // share it; later ones gather while it is in flight.
      this.writing ??= Promise.resolve().then(async () => { await this.drain(writer) })
    })
  }

  private enqueue (record: AuditRecord, line: string, resolve: (record: AuditRecord) => void, reject: (error: Error) => void): void {
    this.queue.push({ record, line, resolve, reject })
  }

  private async drain (writer: Writer): Promise<void> {
    while (this.queue.length > 0) {
      let size = this.maxBatch
      // never split a record from its checkpoint: the caller's record is durable only with it
      if (this.queue[size]?.record.kind === 'checkpoint') size++
      const batch = this.queue.splice(0, size)
      await this.write(writer, batch)
      if (this.broken !== null) {
        for (const p of this.queue.splice(0)) p.reject(this.broken)
      }
    }
    this.writing = null
  }

  private async write (writer: Writer, batch: Pending[]): Promise<void> {
    let text = ''
    for (const p of batch) text += p.line + '\n'
    const buf = Buffer.from(text)
    try {
      let done = 0
      while (done < buf.length) done += await writer.durableFile.write(buf, done, buf.length - done)
    } catch (err) {
      await this.undo(writer, batch, err)
      return
    }
    let offset = this.durableSize
    // the query index is kept only once an auditor's query built it (or while it is built)
    const indexed = this.index !== null || this.pendingWrites !== null
    for (const p of batch) {
      const bytes = Buffer.byteLength(p.line)
      if (indexed) {
        const written = { fields: rowFieldsOf(p.record as unknown as Record<string, unknown>) as RowFields, offset, bytes }
        // before the index is built, the build reads these lines from the file
        if (this.index !== null) addWritten(writer, this.index, written)
        else this.pendingWrites?.push(written)
      }
      offset += bytes + 1
    }
    const last = batch[batch.length - 1] as Pending
    this.durableSize = offset
    this.durable = { seq: last.record.seq, hash: last.record.hash }
    this.durableTs = last.record.ts
    this.stats.records += batch.length
    this.stats.batches++
    for (const p of batch) p.resolve(p.record)
  }

  /**
   * A write failed: its records are refused, and so are those queued behind
   * it, which chain onto them. The chain steps back to the last durable record
   * and the file is cut back to it, so the next append links correctly.
   */
  private async undo (writer: Writer, batch: Pending[], cause: unknown): Promise<void> {
    const error = unavailable(`could not write the audit log ${this.path}: ${(cause as Error).message}; check free disk space and permissions — no exchange is answered until its record is written`, cause)
    const refused = batch.concat(this.queue.splice(0))
    this.assigned = this.durable
    this.assignedTs = this.durableTs
    for (const p of refused) p.reject(error)
    try {
      await writer.own.fh.truncate(this.durableSize)
      await writer.own.fh.datasync()
    } catch (err) {
      this.broken = unavailable(`the audit log ${this.path} could not be written nor cut back to its last whole record (${(err as Error).message}); fix the disk, then restart the gateway`, err)
    }
  }


  private async ensureIndex (): Promise<ColumnIndex> {
    if (this.index !== null) return this.index
    this.indexing ??= this.buildIndex().finally(() => { this.indexing = null })
    return await this.indexing
  }

  /**
   * Reads every chain in the folder into the index: this gateway's up to what
   * is durable now (lines written meanwhile are added as their writes end).
   * Lines in the written form are read from their bytes (canonical-line.ts);
   * any other is parsed.
   */
  private async buildIndex (): Promise<ColumnIndex> {
    const started = Date.now()
    this.pendingWrites = []
    try {
      const ownEnd = this.durableSize
      const index = new ColumnIndex()
      const fields = new LineFields()
      const spares = new Spares()
      for (let n = 0; n < this.files.length; n++) {
        const file = this.files[n] as ChainFile
        file.checkpoints = []
        let base = 0
        for await (const { buf } of readLineChunks(file.fh, 0, file === this.own ? ownEnd : undefined, spares)) {
          for (let s = 0; s < buf.length;) {
            if (buf[s] === NEWLINE) {
              s++
              continue
            }
            let nl: number
            if (readLine(buf, s, fields)) {
              nl = fields.end
              // without ts, gatewayId or seq a record is not listed (the parser would find the same)
              if (index.addLine(buf, fields, n, base + s, nl - s) && bytesAre(buf, fields.kind, fields.kindEnd, 'checkpoint')) {
                file.checkpoints.push({ ts: buf.toString('latin1', fields.ts, fields.tsEnd), offset: base + s })
              }
            } else {
              nl = buf.indexOf(NEWLINE, s)
              const row = rowFieldsOfLine(buf, s, nl)
              if (row !== undefined) {
                index.addFields(row, n, base + s, nl - s)
                if (row.kind === 'checkpoint') file.checkpoints.push({ ts: row.ts, offset: base + s })
              }
            }
            s = nl + 1
          }
          base += buf.length
          spares.give(buf)
        }
        releaseBuffer()
        // a torn last line is not listed; this gateway's file must hold every line it wrote
        if (file === this.own && base < ownEnd) throw unavailable(`the audit log ${file.path} is shorter than its index; it was changed while the gateway ran — run \`govex audit verify\``)
      }
      index.finish()
      // none unless this log writes
      if (this.writer !== null) for (const written of this.pendingWrites) addWritten(this.writer, index, written)
      this.index = index
      this.indexBuildMs = Date.now() - started
      return index
    } finally {
      this.pendingWrites = null
    }
  }

  /** Every matching record of every chain, read straight from the files and merged in listing order. */
  private async * stream (filter: AuditFilter): AsyncGenerator<AuditRecord> {
    const normal = normalizeFilter(filter)
    this.checkOpen()
    const ownEnd = this.durableSize
    const sources = this.files.map(file => fileRecords(file, file === this.own ? ownEnd : undefined, normal))
    const heads = await Promise.all(sources.map(async source => (await source.next()).value))
    for (;;) {
      let min = -1
      for (let i = 0; i < heads.length; i++) {
        const head = heads[i]
        if (head !== undefined && (min === -1 || compareRecords(head, heads[min] as AuditRecord) < 0)) min = i
      }
      if (min === -1) return
      yield heads[min] as AuditRecord
      heads[min] = (await (sources[min] as AsyncGenerator<AuditRecord>).next()).value ?? undefined
    }
  }

  async flush (): Promise<void> {
    while (this.writing !== null) await this.writing
  }

  private checkOpen (): void {
    if (this.closed) throw unavailable(`the audit log ${this.path} is closed; open the store again`)
  }

  async query (filter: AuditFilter, limit: number, cursor?: string): Promise<AuditPage> {
    this.checkOpen()
    const index = await this.ensureIndex()
    return await queryIndex(index, async entries => await this.read(entries), filter, limit, cursor)
  }

  scan (filter: AuditFilter): AsyncIterable<AuditRecord> {
    this.checkOpen()
    // without an index (a fresh reader: `govex audit export`), stream the files: memory stays flat
    if (this.index === null) return this.stream(filter)
    return scanIndex(this.index, async entries => await this.read(entries), filter)
  }

  /**
   * The records of index entries. Lines close together in a file are read in
   * one go (skipping the few bytes between them costs less than a system call
   * each), and the reads run side by side.
   */
  private async read (entries: readonly IndexedRow[]): Promise<AuditRecord[]> {
    const groups: Array<{ first: number, last: number }> = []
    for (let i = 0; i < entries.length;) {
      const first = entries[i] as IndexedRow
      let end = first.offset + first.bytes
      let j = i + 1
      for (; j < entries.length; j++) {
        const next = entries[j] as IndexedRow
        if (next.file !== first.file || next.offset < end || next.offset - end > READ_GAP || next.offset + next.bytes - first.offset > READ_MAX) break
        end = next.offset + next.bytes
      }
      groups.push({ first: i, last: j })
      i = j
    }
    const parts = await Promise.all(groups.map(async ({ first, last }) => {
      const head = entries[first] as IndexedRow
      const tail = entries[last - 1] as IndexedRow
      const file = this.files[head.file] as ChainFile
      const buf = Buffer.allocUnsafe(tail.offset + tail.bytes - head.offset)
      const { bytesRead } = await file.fh.read(buf, 0, buf.length, head.offset)
      if (bytesRead < buf.length) throw unavailable(`the audit log ${file.path} is shorter than its index; it was changed while the gateway ran — run \`govex audit verify\``)
      const records: AuditRecord[] = []
      for (let k = first; k < last; k++) {
        const e = entries[k] as IndexedRow
        records.push(JSON.parse(buf.toString('utf8', e.offset - head.offset, e.offset - head.offset + e.bytes)) as AuditRecord)
      }
      return records
    }))
    return parts.flat()
  }

  /**
   * Walks every chain in the folder, in large reads, each line checked by
   * hashing its text. This gateway's chain is checked up to its durable head,
   * so removing its last records is caught too. With `from`, each chain is
   * walked from its last checkpoint before that instant; with `to`, up to it.
   * A whole-chain walk checks its reads on worker threads (verify-pool.ts)
   * and stitches them in order; a range is walked on this thread.
   */
  async verify (options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
    this.checkOpen()
    const { from, to } = normalizeFilter({ from: options.from, to: options.to })
    await this.flush()
    const ownEnd = this.durableSize
    const ownHead = this.durable
    if (from !== undefined || to !== undefined) return await this.verifyRange(options, from, to, ownEnd, ownHead)
    let bytes = 0
    for (const file of this.files) bytes += file === this.own ? ownEnd : (await file.fh.stat()).size
    const spares = new Spares()
    return await verifyStoredChains(this.files.map(file => ({
      gatewayId: file.gatewayId,
      head: file === this.own ? ownHead : undefined,
      blocks: readLineChunks(file.fh, 0, file === this.own ? ownEnd : undefined, spares)
    })), { bytes, threads: this.verifyThreads, spares, keys: options.keys, onProgress: options.onProgress })
  }

  /** verify with `from` or `to`: each chain walked line by line over the range. */
  private async verifyRange ({ keys, onProgress }: AuditVerifyOptions, from: string | undefined, to: string | undefined, ownEnd: number, ownHead: ChainHead): Promise<AuditVerifyResult> {
    // where each chain's checkpoints are is known from the index
    if (from !== undefined) await this.ensureIndex()
    let checked = 0
    const chains: ChainVerifier[] = []
    for (const file of this.files) {
      const mine = file === this.own
      let offset = 0
      if (from !== undefined) {
        const marks = file.checkpoints
        for (let i = marks.length - 1; i >= 0; i--) {
          const mark = marks[i] as CheckpointMark
          if (mark.ts < from) {
            offset = mark.offset
            break
          }
        }
      }
      let chain: ChainVerifier | undefined
      const newChain = (start?: ChainHead): ChainVerifier =>
        new ChainVerifier(file.gatewayId, mine && to === undefined ? ownHead : undefined, { keys, start })
      let ended = false
      for await (const { buf, torn } of readLineChunks(file.fh, offset, mine ? ownEnd : undefined)) {
        let failed = false
        eachLine(buf, facts => {
          if (to !== undefined && facts.sealed && typeof facts.ts === 'string' && facts.ts >= to) {
            ended = true
            return false
          }
          // a walk from a checkpoint trusts it only as far as its signature holds
          chain ??= newChain(offset > 0 && typeof facts.seq === 'number' ? { seq: facts.seq - 1, hash: String(facts.prevHash) } : undefined)
          checked++
          failed = !pushStoredLine(chain, facts)
          return !failed
        })
        if (failed && chain !== undefined) return verifyResult(checked, [chain])
        onProgress?.(checked)
        if (ended) break
        if (torn !== undefined) {
          chain ??= newChain()
          chain.tornTail()
        }
      }
      chain ??= newChain()
      if (chain.finish() !== null) return verifyResult(checked, [chain])
      chains.push(chain)
    }
    return verifyResult(checked, chains)
  }

  async statistics (by: AuditStatsBy, filter: AuditFilter = {}): Promise<AuditStats> {
    this.checkOpen()
    const normal = statsFilter(filter)
    return await statsOf((await this.ensureIndex()).matching(normal), by, normal)
  }

  /** Stops taking appends, waits for those in flight, and closes the files. */
  async close (): Promise<void> {
    this.closed = true
    this.closing ??= (async () => {
      await this.flush()
      await Promise.allSettled(this.files.map(async f => { await f.fh.close() }))
      await this.writer?.durableFile.close()
    })()
    await this.closing
  }
}
