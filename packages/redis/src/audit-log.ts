// The audit log on Redis Streams: this gateway's chain is one stream, appends
// are batched (whatever arrives during a round trip goes in the next one) and
// resolve only once Redis acknowledged them. When Redis cannot take a batch,
// it is fsync'd to the local spool instead and replayed, in order, as soon as
// Redis is ready again; the chain goes on in the spool, so it stays valid.
import type { Redis } from 'ioredis'
import { checkCheckpointOptions, checkpointAfter, checkVerifyThreads, GovexError, isoInstant, sealLine, ZERO_DIGEST } from '@govex/core'
import type { AuditEntry, AuditLog, AuditRecord, ChainHead, CheckpointOptions } from '@govex/core'
import { guarded, toGovexError } from './connection.js'
import { appendRecords, CHAIN_ERROR, lastRecord, type Sealed } from './audit-append.js'
import { AuditReader } from './audit-read.js'
import type { KeyLayout } from './keys.js'
import { Spool } from './spool.js'

export interface RedisAuditLogOptions {
  client: Redis
  keys: KeyLayout
  gatewayId: string
  /** where records Redis cannot take are kept; without it such appends reject */
  spoolDir?: string | undefined
  /** most records in one round trip (default 256) */
  maxBatch?: number | undefined
  /** told of failures no caller awaits (spool replay) */
  onError?: ((err: Error) => void) | undefined
  /** append a signed checkpoint every `every` records */
  checkpoint?: CheckpointOptions | undefined
  /** worker threads a whole-log verify checks its reads on (0: none; default: one per core, at most 4, for large logs) */
  verifyThreads?: number | undefined
}

interface Pending {
  entry: AuditEntry
  resolve: (record: AuditRecord) => void
  reject: (err: Error) => void
}

interface Head {
  seq: number
  hash: string
  tsMs: number
}

const RETRY_MS = 1000

/** A gateway's audit log: its own chain appended, every gateway's read (AuditReader). */
export class RedisAuditLog extends AuditReader implements AuditLog {
  readonly gatewayId: string
  readonly #client: Redis
  readonly #keys: KeyLayout
  readonly #spool: Spool | undefined
  readonly #maxBatch: number
  readonly #onError: (err: Error) => void
  readonly #checkpoint: CheckpointOptions | undefined
  #head: Head
  #pending: Pending[] = []
  /**
   * the head is not known: Redis has not answered since the log was opened
   * (openDeferred), or an append failed ambiguously with nothing spooled. It is
   * read again before anything is sealed or replayed.
   */
  #staleHead: boolean
  #running: Promise<void> | null = null
  #batches = 0
  #retryTimer: NodeJS.Timeout | null = null
  #closed = false
  /** no replay attempt before this time (ms) after one failed; a reconnect lifts it */
  #replayAfter = 0
  readonly #onReady = (): void => {
    this.#replayAfter = 0
    this.#kick()
  }

  private constructor (options: RedisAuditLogOptions, spool: Spool | undefined) {
    super(options.client, options.keys, options.verifyThreads)
    this.gatewayId = options.gatewayId
    this.#client = options.client
    this.#keys = options.keys
    this.#spool = spool
    this.#maxBatch = options.maxBatch ?? 256
    this.#onError = options.onError ?? (() => {})
    this.#head = { seq: 0, hash: ZERO_DIGEST, tsMs: 0 }
    this.#staleHead = true
    this.#checkpoint = options.checkpoint
  }

  /** Reads the chain head from Redis and the spool left by an earlier run, which it starts replaying. */
  static async open (options: RedisAuditLogOptions): Promise<RedisAuditLog> {
    return await RedisAuditLog.#open(options, false)
  }

  /**
   * Opens the local spool only: the chain head is read from Redis when it first
   * answers, and appends reject with GOVEX_ERR_UNAVAILABLE until then (for a
   * gateway that starts while Redis is down).
   */
  static async openDeferred (options: RedisAuditLogOptions): Promise<RedisAuditLog> {
    return await RedisAuditLog.#open(options, true)
  }

  static async #open (options: RedisAuditLogOptions, deferHead: boolean): Promise<RedisAuditLog> {
    checkCheckpointOptions(options.checkpoint)
    checkVerifyThreads(options.verifyThreads)
    // Redis first: an open that needs it and cannot have it touches no spool
    const last = deferHead ? undefined : await readLast(options.client, options.keys, options.gatewayId)
    const spool = options.spoolDir === undefined ? undefined : await Spool.open(options.spoolDir, options.gatewayId)
    const log = new RedisAuditLog(options, spool)
    if (!deferHead) await log.#continueFrom(last)
    log.#client.on('ready', log.#onReady)
    log.#kick()
    return log
  }

  head (): ChainHead {
    return { seq: this.#head.seq, hash: this.#head.hash }
  }

  /** round trips that appended records (a figure for tests and metrics) */
  get batches (): number {
    return this.#batches
  }

  /** records waiting in the local spool for Redis; while any, new records go to the spool too */
  get spooled (): number {
    return this.#spool?.count ?? 0
  }

  /** @internal spooled records held in memory, read ahead for replay (at most maxBatch, however many are spooled) */
  get spoolWindow (): number {
    return this.#spool?.window ?? 0
  }

  append (entry: AuditEntry): Promise<AuditRecord> {
    if (this.#closed) return Promise.reject(new GovexError('GOVEX_ERR_UNAVAILABLE', 'the audit log is closed; open the stores again'))
    return new Promise((resolve, reject) => {
      this.#pending.push({ entry, resolve, reject })
      this.#kick()
    })
  }

  async flush (): Promise<void> {
    while (this.#running !== null) await this.#running
  }

  async close (): Promise<void> {
    await this.flush()
    this.#closed = true
    this.#client.off('ready', this.#onReady)
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer)
    this.#retryTimer = null
    await this.#spool?.close()
  }

  #kick (): void {
    if (this.#running !== null) return
    this.#running = this.#run().finally(() => {
      this.#running = null
      if (this.#pending.length > 0) this.#kick()
    })
  }

  /** The one writer: batches, spool writes and spool replay run one at a time, in seq order. */
  async #run (): Promise<void> {
    // appends made in the same tick as the first one join its batch
    await Promise.resolve()
    if (this.#staleHead && this.#client.status === 'ready' && !this.#closed) {
      // a failure here is told to the appends that need the head (#write)
      await this.#readHead().catch(() => {})
    }
    for (;;) {
      let replayed = false
      if (this.spooled > 0 && !this.#staleHead && this.#client.status === 'ready' && !this.#closed && Date.now() >= this.#replayAfter) {
        replayed = await this.#replayOnce()
        if (!replayed) {
          this.#replayAfter = Date.now() + RETRY_MS
          this.#scheduleRetry()
        }
      }
      if (this.#pending.length === 0) {
        if (replayed && this.spooled > 0) continue
        return
      }
      await this.#write(this.#pending.splice(0, this.#maxBatch))
    }
  }

  async #write (batch: Pending[]): Promise<void> {
    if (this.#staleHead) {
      try {
        await this.#readHead()
      } catch (err) {
        for (const p of batch) p.reject(toGovexError(err, 'appending to the audit log'))
        return
      }
    }
    const { records, results } = this.#seal(batch)
    if (this.spooled === 0) {
      try {
        await appendRecords(this.#client, this.#keys, this.gatewayId, records)
        this.#batches++
        this.#commit(batch, records, results)
        return
      } catch (err) {
        if (isChainError(err)) {
          // another process appends to this chain: never fork it; start again from what Redis holds
          this.#staleHead = true
          const error = new GovexError('GOVEX_ERR_UNAVAILABLE', `the audit chain of ${this.gatewayId} in Redis moved under this gateway (${(err as Error).message}); give every gateway process its own gatewayId`, { cause: err })
          this.#onError(error)
          for (const p of batch) p.reject(error)
          return
        }
        if (this.#spool === undefined) {
          // the batch may or may not have landed: the next one starts from what Redis holds
          this.#staleHead = true
          const error = toGovexError(err, 'appending to the audit log')
          for (const p of batch) p.reject(error)
          return
        }
        this.#onError(toGovexError(err, `appending to the audit log (spooling to ${this.#spool.path})`))
        // Redis just failed us: give it a moment before replaying the spool
        this.#replayAfter = Date.now() + RETRY_MS
      }
    }
    await this.#toSpool(batch, records, results)
  }

  async #readHead (): Promise<void> {
    await this.#continueFrom(await readLast(this.#client, this.#keys, this.gatewayId))
  }

  /** Takes the head Redis holds (`last`); spooled records beyond it continue the chain, the others are in Redis already. */
  async #continueFrom (last: AuditRecord | undefined): Promise<void> {
    let head = last === undefined ? { seq: 0, hash: ZERO_DIGEST, tsMs: 0 } : headOf(last)
    const spool = this.#spool
    if (spool !== undefined) {
      await spool.dropThrough(head.seq, this.#maxBatch)
      const tail = spool.tail
      if (tail !== undefined) head = headOf(tail)
      else if (!spool.empty) await spool.clear()
    }
    this.#head = head
    this.#staleHead = false
  }

  async #toSpool (batch: Pending[], records: Sealed[], results: AuditRecord[]): Promise<void> {
    const spool = this.#spool
    if (spool === undefined) return
    try {
      await spool.write(records)
    } catch (err) {
      // nothing durable; if Redis took an earlier attempt of these seqs, rereading the head sorts it out
      if (spool.count === 0) this.#staleHead = true
      const error = new GovexError('GOVEX_ERR_UNAVAILABLE', `Redis is unreachable and the audit spool ${spool.path} cannot be written: ${(err as Error).message}`, { cause: err })
      for (const p of batch) p.reject(error)
      return
    }
    this.#commit(batch, records, results)
    this.#scheduleRetry()
  }

  /** Sends the oldest spooled records to Redis; false when Redis did not take them. */
  async #replayOnce (): Promise<boolean> {
    const spool = this.#spool
    if (spool === undefined) return true
    let chunk: Sealed[]
    try {
      chunk = await spool.peek(this.#maxBatch)
    } catch (err) {
      this.#onError(toGovexError(err, `reading the audit spool ${spool.path}`))
      return false
    }
    if (chunk.length === 0) {
      // counted but not in the file: nothing is left to send
      await spool.shift(spool.count).catch(err => this.#onError(toGovexError(err, `clearing the audit spool ${spool.path}`)))
      return true
    }
    try {
      await appendRecords(this.#client, this.#keys, this.gatewayId, chunk)
    } catch (err) {
      this.#onError(isChainError(err)
        ? new GovexError('GOVEX_ERR_UNAVAILABLE', `spooled audit records of ${this.gatewayId} do not continue the chain in Redis (${(err as Error).message}); they stay in ${this.#spool?.path ?? 'the spool'}`, { cause: err })
        : toGovexError(err, 'replaying the audit spool'))
      return false
    }
    try {
      await spool.shift(chunk.length)
    } catch (err) {
      // the records are in Redis; a leftover spool is replayed harmlessly (appends are idempotent by seq)
      this.#onError(toGovexError(err, `clearing the audit spool ${spool.path}`))
    }
    return true
  }

  #scheduleRetry (): void {
    if (this.#retryTimer !== null || this.#closed) return
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null
      if (this.spooled > 0) {
        if (this.#client.status === 'ready') {
          this.#replayAfter = 0
          this.#kick()
        }
        else this.#scheduleRetry()
      }
    }, RETRY_MS)
    this.#retryTimer.unref()
  }

  /** Seals a batch: `records` to store (checkpoints included, right after the record each signs), `results` one per pending append. */
  #seal (batch: Pending[]): { records: Sealed[], results: AuditRecord[] } {
    let { seq, hash, tsMs } = this.#head
    const records: Sealed[] = []
    const results: AuditRecord[] = []
    for (const p of batch) {
      // ts never goes back within a chain, whatever the clock does
      tsMs = Math.max(Date.now(), tsMs)
      const sealed = sealLine(p.entry, { gatewayId: this.gatewayId, seq: ++seq, ts: isoInstant(tsMs), prevHash: hash })
      hash = sealed.record.hash
      records.push(sealed)
      results.push(sealed.record)
      const checkpoint = checkpointAfter(sealed.record, this.#checkpoint)
      if (checkpoint !== undefined) {
        seq = checkpoint.record.seq
        hash = checkpoint.record.hash
        records.push(checkpoint)
      }
    }
    return { records, results }
  }

  #commit (batch: Pending[], records: Sealed[], results: AuditRecord[]): void {
    const last = records[records.length - 1]
    if (last !== undefined) this.#head = headOf(last.record)
    for (let i = 0; i < batch.length; i++) (batch[i] as Pending).resolve(results[i] as AuditRecord)
  }
}

async function readLast (client: Redis, keys: KeyLayout, gatewayId: string): Promise<AuditRecord | undefined> {
  return await guarded(`reading the audit chain head of ${gatewayId}`, () => lastRecord(client, keys, gatewayId))
}

function headOf (record: AuditRecord): Head {
  return { seq: record.seq, hash: record.hash, tsMs: Date.parse(record.ts) }
}

function isChainError (err: unknown): boolean {
  return err instanceof Error && err.message.startsWith(CHAIN_ERROR)
}
