// Reading the audit log: query and scan walk one index sorted set (by
// consumer, resource or provider when the filter names one, else the index of
// every record) in (ts, gatewayId, seq) order and fetch the records from the
// gateways' streams; verify walks every gateway's stream against its stored head.
// A gateway's log (RedisAuditLog) and an auditor's read-only one
// (ReadOnlyRedisAuditLog) are both an AuditReader: one reading code for both.
import type { Redis } from 'ioredis'
import { ChainVerifier, Spares, checkLimit, compareRecords, decodeCursor, eachLine, encodeCursor, feedStoredChunk, inspectLine, matchesFilter, normalizeFilter, pushStoredLine, statsFilter, verifyResult, verifyStoredChains, LineStats, checkStatsBy } from '@govex/core'
import type { AuditFilter, AuditPage, AuditRecord, AuditStats, AuditStatsBy, AuditVerifyOptions, AuditVerifyResult, ChainHead, LineFacts } from '@govex/core'
import { guarded, toGovexError, type RedisUser } from './connection.js'
import { StreamReader, type StreamBlock } from './audit-stream.js'
import { indexMember, parseIndexMember, type KeyLayout } from './keys.js'

interface Position {
  ts: string
  gatewayId: string
  seq: number
}

const CHUNK = 256
/** index members stats read at once: their records' runs go out in one round of reads */
const STATS_MEMBERS = 10000
const VERIFY_CHUNK = 5000

/** The reads of an AuditLog on Redis: query, scan, statistics and verify. */
export class AuditReader {
  readonly #client: Redis
  readonly #keys: KeyLayout
  readonly #verifyThreads: number | undefined
  /** whose rights a refusal's advice speaks of */
  readonly #user: RedisUser

  /** `verifyThreads` as AuditLog options take it; `user`: who reads, for the advice of a refusal (default a gateway) */
  constructor (client: Redis, keys: KeyLayout, verifyThreads?: number, user: RedisUser = 'gateway') {
    this.#client = client
    this.#keys = keys
    this.#verifyThreads = verifyThreads
    this.#user = user
  }

  async query (filter: AuditFilter, limit: number, cursor?: string): Promise<AuditPage> {
    checkLimit(limit)
    const normal = normalizeFilter(filter)
    const after = cursor === undefined ? undefined : decodeCursor(cursor, normal)
    const records: AuditRecord[] = []
    // one record beyond the page tells whether there is a next one
    for await (const record of this.#walk(normal, after, Math.min(CHUNK, limit + 1))) {
      records.push(record)
      if (records.length > limit) break
    }
    let nextCursor: string | null = null
    if (records.length > limit) {
      records.length = limit
      nextCursor = encodeCursor(records[limit - 1] as AuditRecord, normal)
    }
    return { records, nextCursor }
  }

  scan (filter: AuditFilter): AsyncIterable<AuditRecord> {
    return this.#walk(normalizeFilter(filter), undefined, CHUNK)
  }

  /**
   * Stats of the matching exchange records. The narrowest index (per
   * consumer, resource or provider when the filter names one, else the index
   * of every record) over the time range says which records; they are read
   * raw (audit-stream.ts), a run of consecutive seqs of a gateway in one
   * XRANGE, and their lines read without parsing (LineStats). Outcome and
   * latency are in no index, so every matching record is read, and only those.
   */
  async statistics (by: AuditStatsBy, filter: AuditFilter = {}): Promise<AuditStats> {
    const normal = statsFilter(filter)
    const stats = new LineStats(checkStatsBy(by))
    const reader = await StreamReader.open(this.#client, undefined, this.#user)
    try {
      for await (const members of this.#members(normal, undefined, STATS_MEMBERS, STATS_MEMBERS)) {
        const blocks = await Promise.all(runsOf(members).map(async run =>
          await reader.read(this.#keys.auditStream(run.gatewayId), `${run.first}-1`, run.last - run.first + 1, `${run.last}-1`)))
        for (const block of blocks) stats.addLines(block.buf, normal)
      }
    } finally {
      reader.close()
    }
    return stats.result(normal)
  }

  /**
   * Walks every gateway's stream against its stored head; with `from`, each
   * from its last checkpoint before that instant (per-gateway checkpoint
   * index), with `to` up to its first record at or after it. A whole stream
   * is read as blocks of lines (one script call each, the next one asked for
   * while the current one is checked), checked on worker threads when large
   * (see threadsFor) and stitched in order.
   */
  async verify (options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
    const { from, to } = normalizeFilter({ from: options.from, to: options.to })
    const [gateways, rawHeads] = await guarded('reading audit chain heads from Redis', () => Promise.all([
      this.#client.smembers(this.#keys.auditGateways),
      this.#client.hgetall(this.#keys.auditHeads)
    ]), this.#user)
    const heads = new Map<string, ChainHead>()
    for (const [gatewayId, value] of Object.entries(rawHeads)) {
      const space = value.indexOf(' ')
      heads.set(gatewayId, { seq: Number(value.slice(0, space)), hash: value.slice(space + 1) })
    }
    const ids = [...new Set([...gateways, ...heads.keys()])].sort()
    if (from !== undefined || to !== undefined) return await this.#verifyRange(ids, heads, options, from, to)
    let records = 0
    for (const head of heads.values()) records += head.seq
    const spares = new Spares()
    const reader = await StreamReader.open(this.#client, spares, this.#user)
    try {
      return await verifyStoredChains(ids.map(gatewayId => ({ gatewayId, head: heads.get(gatewayId), blocks: this.#blocks(reader, gatewayId) })),
        { bytes: records * RECORD_BYTES, threads: this.#verifyThreads, spares, keys: options.keys, onProgress: options.onProgress },
        // as many lines as records: no record broke into two
        (chain, { buf, ends, summary }) => summary.clean && summary.lines === ends.length ? feedStoredChunk(chain, buf, summary) : walkEntries(chain, buf, ends))
    } finally {
      reader.close()
    }
  }

  /** verify with `from` or `to`: each stream walked record by record over the range. */
  async #verifyRange (ids: readonly string[], heads: ReadonlyMap<string, ChainHead>, { keys, onProgress }: AuditVerifyOptions, from: string | undefined, to: string | undefined): Promise<AuditVerifyResult> {
    let checked = 0
    const chains: ChainVerifier[] = []
    for (const gatewayId of ids) {
      const startSeq = from === undefined ? undefined : await this.#checkpointBefore(gatewayId, from)
      let chain: ChainVerifier | undefined
      for await (const line of this.#lines(gatewayId, startSeq)) {
        // the stored line is checked by hashing its text: no parsing or re-serialising
        const facts = inspectLine(line)
        if (to !== undefined && facts.sealed && typeof facts.ts === 'string' && facts.ts >= to) break
        // a walk from a checkpoint trusts it only as far as its signature holds
        chain ??= new ChainVerifier(gatewayId, to === undefined ? heads.get(gatewayId) : undefined, {
          keys,
          start: startSeq !== undefined && typeof facts.seq === 'number' ? { seq: facts.seq - 1, hash: String(facts.prevHash) } : undefined
        })
        checked++
        if (!pushStoredLine(chain, facts)) return verifyResult(checked, [chain])
        if ((checked & 4095) === 0) onProgress?.(checked)
      }
      chains.push(chain ?? new ChainVerifier(gatewayId, to === undefined ? heads.get(gatewayId) : undefined))
    }
    onProgress?.(checked)
    return verifyResult(checked, chains)
  }

  /**
   * A gateway's stream as blocks of lines, one record a line in stream order,
   * each block one XRANGE read as raw bytes (audit-stream.ts); the next read
   * is on its way while the caller takes a block. `ends[i]` is where record
   * i's line ends, so a block holding a record with a line break in it (never
   * one the log wrote) can still be walked record by record (walkEntries).
   */
  async * #blocks (reader: StreamReader, gatewayId: string): AsyncGenerator<StreamBlock> {
    const stream = this.#keys.auditStream(gatewayId)
    let next: Promise<StreamBlock> | undefined = reader.read(stream, '-', BLOCK_RECORDS)
    try {
      while (next !== undefined) {
        const block: StreamBlock = await next
        next = block.ends.length < BLOCK_RECORDS ? undefined : reader.read(stream, '(' + block.last, BLOCK_RECORDS)
        if (block.ends.length > 0) yield block
      }
    } finally {
      // left early (a bad record found): the read on its way is dropped
      next?.catch(() => {})
    }
  }

  /** seq of the gateway's last checkpoint before `from`, if any. */
  async #checkpointBefore (gatewayId: string, from: string): Promise<number | undefined> {
    const reply = await guarded('reading the audit checkpoint index in Redis', () =>
      this.#client.zrange(this.#keys.auditIndex('checkpoint', gatewayId), '(' + String(Date.parse(from)), '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 1), this.#user)
    const member = reply[0]
    return member === undefined ? undefined : parseIndexMember(member).seq
  }

  /** The stored lines of a gateway's chain, in stream (seq) order. */
  async * #lines (gatewayId: string, fromSeq?: number): AsyncGenerator<string> {
    const stream = this.#keys.auditStream(gatewayId)
    let start = fromSeq === undefined ? '-' : `${fromSeq}-1`
    for (;;) {
      const entries = await guarded(`reading the audit chain of ${gatewayId}`, () => this.#client.xrange(stream, start, '+', 'COUNT', VERIFY_CHUNK), this.#user)
      for (const [, fields] of entries) yield fieldOf(fields, 'r') ?? ''
      const last = entries[entries.length - 1]
      if (last === undefined || entries.length < VERIFY_CHUNK) return
      start = '(' + last[0]
    }
  }

  /**
   * Matching records after `after`, in listing order. The first read takes
   * `chunk` index entries (a page's worth); later ones grow up to CHUNK, so a
   * filter the index does not narrow (outcome, userId...) costs few round trips.
   */
  async * #walk (filter: AuditFilter, after: Position | undefined, first: number): AsyncGenerator<AuditRecord> {
    for await (const members of this.#members(filter, after, first, CHUNK)) {
      for (const record of await this.#fetch(members)) {
        if (after !== undefined && compareRecords(record, after) <= 0) continue
        if (matchesFilter(record, filter)) yield record
      }
    }
  }

  /**
   * The members of the narrowest index for `filter` from `after` (or `from`)
   * up to `to`, in its order, `first` at first and then up to `most` a read.
   */
  async * #members (filter: AuditFilter, after: Position | undefined, first: number, most: number): AsyncGenerator<string[]> {
    let chunk = first
    const key = this.#indexFor(filter)
    // scores are whole ms; the bounds only narrow the walk, matchesFilter decides
    let min = after !== undefined ? Date.parse(after.ts) : filter.from !== undefined ? Date.parse(filter.from) : -Infinity
    const max = filter.to !== undefined ? String(Date.parse(filter.to)) : '+inf'
    // index entries already read at score `min` (many records can share a ms)
    let skip = 0
    const read = async (): Promise<string[]> => await guarded('reading the audit index in Redis', () =>
      this.#client.zrange(key, min === -Infinity ? '-inf' : String(min), max, 'BYSCORE', 'LIMIT', skip, chunk, 'WITHSCORES'), this.#user)
    let next: Promise<string[]> | undefined = read()
    try {
      while (next !== undefined) {
        const reply: string[] = await next
        if (reply.length === 0) return
        const members: string[] = []
        let lastScore = min
        let atLast = 0
        for (let i = 0; i < reply.length; i += 2) {
          members.push(reply[i] as string)
          const score = Number(reply[i + 1])
          if (score === lastScore) atLast++
          else {
            lastScore = score
            atLast = 1
          }
        }
        if (lastScore === min) skip += members.length
        else {
          min = lastScore
          skip = atLast
        }
        // the next read is on its way while the caller takes these
        const full = members.length === chunk
        chunk = Math.min(most, chunk * 2)
        next = full ? read() : undefined
        yield members
      }
    } finally {
      // left early (a page full): the read on its way is dropped
      next?.catch(() => {})
    }
  }

  #indexFor (filter: AuditFilter): string {
    if (filter.consumer !== undefined) return this.#keys.auditIndex('consumer', filter.consumer)
    if (filter.resource !== undefined) return this.#keys.auditIndex('resource', filter.resource)
    if (filter.provider !== undefined) return this.#keys.auditIndex('provider', filter.provider)
    return this.#keys.auditIndex('all', '')
  }

  /**
   * The records of index members, in the members' order, in one pipelined
   * round trip: a run of consecutive seqs of a gateway (a page of the index
   * of every record is mostly one) is one XRANGE.
   */
  async #fetch (members: readonly string[]): Promise<AuditRecord[]> {
    const pipeline = this.#client.pipeline()
    const runs = runsOf(members)
    for (const run of runs) pipeline.xrange(this.#keys.auditStream(run.gatewayId), `${run.first}-1`, `${run.last}-1`)
    const results = await guarded('reading audit records from Redis', async () => await pipeline.exec() ?? [], this.#user)
    const byMember = new Map<string, AuditRecord>()
    for (let i = 0; i < results.length; i++) {
      const [err, entries] = results[i] as [Error | null, unknown]
      if (err !== null) throw toGovexError(err, 'reading audit records from Redis', this.#user)
      const run = runs[i] as Run
      for (const [id, fields] of entries as Array<[string, string[]]>) {
        const record = parseEntry(fields)
        if (record !== undefined) byMember.set(indexMember(run.gatewayId, Number(id.slice(0, id.indexOf('-')))), record)
      }
    }
    const records: AuditRecord[] = []
    for (const member of members) {
      const record = byMember.get(member)
      if (record !== undefined) records.push(record)
    }
    return records
  }
}

interface Run {
  gatewayId: string
  first: number
  last: number
}

/** Index members (in index order) as runs of consecutive seqs of one gateway. */
function runsOf (members: readonly string[]): Run[] {
  const runs: Run[] = []
  let run: Run | undefined
  for (const member of members) {
    const { gatewayId, seq } = parseIndexMember(member)
    if (run !== undefined && run.gatewayId === gatewayId && seq === run.last + 1) {
      run.last = seq
    } else {
      run = { gatewayId, first: seq, last: seq }
      runs.push(run)
    }
  }
  return runs
}

/** Records one read takes: about 1.5 MB, a few ms of Redis's time. */
const BLOCK_RECORDS = 2000
/** What a record takes in a stream, about: large logs are checked on worker threads (threadsFor). */
const RECORD_BYTES = 800
const NEWLINE = 10

/** A block walked record by record (the exact way): each record's line on its own. Returns the records checked. */
function walkEntries (chain: ChainVerifier, buf: Buffer, ends: Int32Array): number {
  let checked = 0
  let start = 0
  for (const end of ends) {
    checked++
    const line = buf.subarray(start, end + 1)
    // a record with a line break in it is one line all the same: parsed as such
    if (line.indexOf(NEWLINE) === end - start) eachLine(line, (facts: LineFacts) => pushStoredLine(chain, facts))
    else pushStoredLine(chain, inspectLine(line.toString('utf8', 0, end - start)))
    if (chain.done) break
    start = end + 1
  }
  return checked
}

function fieldOf (fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

/** A stream entry's record, or undefined when its field is not a JSON record (verify names such an entry). */
function parseEntry (fields: readonly string[]): AuditRecord | undefined {
  const json = fieldOf(fields, 'r')
  if (json === undefined) return undefined
  try {
    const value = JSON.parse(json) as unknown
    return typeof value === 'object' && value !== null && typeof (value as { seq?: unknown }).seq === 'number' ? value as AuditRecord : undefined
  } catch {
    return undefined
  }
}
