// The audit log in memory: the memory store's (one process, tests, demos).
// Same chain and query behaviour as the file log; nothing survives a restart.
import { ZERO_DIGEST } from '../../canonical.js'
import { GovexError } from '../../codes.js'
import { isMemberId } from '../../ids.js'
import type { AuditEntry, AuditRecord } from '../../schemas/audit.js'
import type { AuditFilter, AuditLog, AuditPage, AuditStats, AuditStatsBy, AuditVerifyOptions, AuditVerifyResult, ChainHead } from '../types.js'
import { nextTimestamp, sealLine } from '../../audit/chain.js'
import { checkCheckpointOptions, checkpointAfter, type CheckpointOptions } from '../../audit/checkpoint.js'
import { verifyChain } from '../../audit/verify.js'
import { AuditIndex } from '../../audit/record-index.js'
import { queryIndex, scanIndex } from '../../audit/paging.js'
import { normalizeFilter } from '../../audit/query.js'
import { statsFilter, statsOf } from '../../audit/stats.js'

export interface MemoryAuditLogOptions {
  gatewayId: string
  /** clock in ms (tests) */
  now?: () => number
  /** append a signed checkpoint every `every` records */
  checkpoint?: CheckpointOptions | undefined
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item)
    Object.freeze(value)
  }
  return value
}

const readRecords = (records: readonly AuditRecord[]): AuditRecord[] => records.slice()

export class MemoryAuditLog implements AuditLog {
  readonly gatewayId: string
  private readonly now: () => number
  private readonly checkpoint: CheckpointOptions | undefined
  /** this gateway's chain in seq order; frozen copies, so no caller can change the log */
  private readonly chain: AuditRecord[] = []
  private readonly index = new AuditIndex<AuditRecord>()
  private last: AuditRecord | undefined
  private closed = false

  constructor (options: MemoryAuditLogOptions) {
    if (!isMemberId(options.gatewayId)) {
      throw new GovexError('GOVEX_ERR_BAD_REQUEST', `audit log gatewayId must be a member id like tj.gw.extranet-1, got ${JSON.stringify(options.gatewayId)}`)
    }
    this.gatewayId = options.gatewayId
    this.now = options.now ?? Date.now
    this.checkpoint = checkCheckpointOptions(options.checkpoint)
  }

  private store (line: string): AuditRecord {
    const stored = deepFreeze(JSON.parse(line) as AuditRecord)
    this.chain.push(stored)
    this.index.add(stored)
    this.last = stored
    return stored
  }

  async append (entry: AuditEntry): Promise<AuditRecord> {
    if (this.closed) throw new GovexError('GOVEX_ERR_UNAVAILABLE', `the audit log of ${this.gatewayId} is closed; open the store again`)
    const head = this.head()
    const { record, line } = sealLine(entry, {
      gatewayId: this.gatewayId, seq: head.seq + 1, ts: nextTimestamp(this.now(), this.last?.ts), prevHash: head.hash
    })
    this.store(line)
    const checkpoint = checkpointAfter(record, this.checkpoint)
    if (checkpoint !== undefined) this.store(checkpoint.line)
    return record
  }

  head (): ChainHead {
    const last = this.last
    return last === undefined ? { seq: 0, hash: ZERO_DIGEST } : { seq: last.seq, hash: last.hash }
  }

  async query (filter: AuditFilter, limit: number, cursor?: string): Promise<AuditPage> {
    return await queryIndex(this.index, readRecords, filter, limit, cursor)
  }

  scan (filter: AuditFilter): AsyncIterable<AuditRecord> {
    return scanIndex(this.index, readRecords, filter)
  }

  async verify (options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
    const result = await this.#verify(options)
    options.onProgress?.(result.checked)
    return result
  }

  async #verify (options: AuditVerifyOptions): Promise<AuditVerifyResult> {
    const { from, to } = normalizeFilter({ from: options.from, to: options.to })
    const keys = options.keys
    if (from === undefined && to === undefined) {
      return await verifyChain(this.chain, { heads: new Map([[this.gatewayId, this.head()]]), keys })
    }
    // start at the last checkpoint before `from`: ts never goes back within a chain
    let start = 0
    if (from !== undefined) {
      for (let i = this.chain.length - 1; i >= 0; i--) {
        const r = this.chain[i] as AuditRecord
        if (r.kind === 'checkpoint' && r.ts < from) {
          start = i
          break
        }
      }
    }
    const first = this.chain[start]
    if (first?.kind === 'checkpoint') return await verifyChain(this.chain.slice(start + 1), { from: first, to, keys })
    return await verifyChain(this.chain, { to, keys })
  }

  async statistics (by: AuditStatsBy, filter: AuditFilter = {}): Promise<AuditStats> {
    const normal = statsFilter(filter)
    return await statsOf(this.index.matching(normal), by, normal)
  }

  async flush (): Promise<void> {}

  async close (): Promise<void> {
    this.closed = true
  }
}
