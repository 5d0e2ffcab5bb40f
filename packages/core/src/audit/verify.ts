// Walking hash chains (ARCHITECTURE.md "Trust": verify names the first record
// that was changed, removed or reordered). One ChainVerifier per gateway chain,
// fed records in stored order with constant memory; verifyChain groups any
// stream of records (an export is ordered by ts, not by chain) by gatewayId.
import { ZERO_DIGEST } from '../canonical.js'
import type { AuditRecord } from '../schemas/audit.js'
import type { AuditVerifyResult, ChainHead } from '../store/types.js'
import { recordHash } from './chain.js'
import { lineSealed } from './record-json.js'

/**
 * - `changed`: a record's content does not match its hash, or the next record
 *   does not link to it (it was rewritten with a fresh hash);
 * - `missing`: a seq never appears (a record was removed);
 * - `reordered`: a seq appears out of place (records moved or swapped);
 * - `truncated`: the chain ends before the head the store knows, or its last
 *   line is torn.
 */
export type ChainFault = 'changed' | 'missing' | 'reordered' | 'truncated'

export interface BadRecord {
  gatewayId: string
  seq: number
  reason: ChainFault
}

export class ChainVerifier {
  readonly gatewayId: string
  private readonly head: ChainHead | undefined
  /** the seq the next record should have */
  private expected = 1
  private prevHash = ZERO_DIGEST
  /**
   * The first seq skipped. Whether it is missing or comes later (reordered)
   * is known only further on, so records after it are only watched for it:
   * everything found later sits further along the chain.
   */
  private gap: number | null = null
  private bad: BadRecord | null = null
  private headHash: string | undefined

  constructor (gatewayId: string, head?: ChainHead) {
    this.gatewayId = gatewayId
    this.head = head
  }

  /** true once the first bad record is known; feeding more changes nothing */
  get done (): boolean {
    return this.bad !== null
  }

  private fail (seq: number, reason: ChainFault): false {
    this.bad = { gatewayId: this.gatewayId, seq, reason }
    return false
  }

  /**
   * Feeds the next stored record. `sealed` says whether its content matches its
   * hash. Returns false once the result is final.
   */
  push (seq: unknown, prevHash: unknown, hash: unknown, sealed: boolean): boolean {
    if (this.bad !== null) return false
    if (this.gap !== null) {
      if (seq === this.gap) return this.fail(this.gap, 'reordered')
      if (sealed && typeof seq === 'number' && seq < this.gap) return this.fail(seq, 'reordered')
      return true
    }
    // A record that fails its hash cannot be trusted for its seq either: name
    // the place in the chain where it sits.
    if (!sealed || typeof seq !== 'number' || !Number.isInteger(seq) || typeof hash !== 'string') {
      return this.fail(this.expected, 'changed')
    }
    if (seq === this.expected) {
      // The record is intact but does not link to the one before: that one was
      // rewritten (with a recomputed hash), or seq 1 was re-rooted.
      if (prevHash !== this.prevHash) return this.fail(Math.max(1, seq - 1), 'changed')
      this.prevHash = hash
      this.expected = seq + 1
      if (this.head !== undefined && seq === this.head.seq) this.headHash = hash
      return true
    }
    if (seq > this.expected) {
      this.gap = this.expected
      return true
    }
    return this.fail(seq, 'reordered')
  }

  /** The stored chain ends in a torn or unreadable line. */
  tornTail (): void {
    if (this.bad !== null) return
    if (this.gap !== null) this.fail(this.gap, 'missing')
    else this.fail(this.expected, 'truncated')
  }

  /** The first bad record, or null when the chain is intact (and reaches the head, if one was given). */
  finish (): BadRecord | null {
    if (this.bad !== null) return this.bad
    if (this.gap !== null) return { gatewayId: this.gatewayId, seq: this.gap, reason: 'missing' }
    const head = this.head
    if (head !== undefined && head.seq > 0) {
      if (this.expected <= head.seq) return { gatewayId: this.gatewayId, seq: this.expected, reason: 'truncated' }
      if (this.headHash !== head.hash) return { gatewayId: this.gatewayId, seq: head.seq, reason: 'changed' }
    }
    return null
  }
}

/** Whether a record's content matches the hash it carries; false for anything that is not a record. */
export function isSealed (record: unknown): boolean {
  if (typeof record !== 'object' || record === null) return false
  const hash = (record as { hash?: unknown }).hash
  if (typeof hash !== 'string') return false
  try {
    return recordHash(record) === hash
  } catch {
    return false
  }
}

/**
 * A stored line parsed and checked: a line in the form the log writes is
 * checked by hashing its text (no re-serialising); any other line by the
 * definition. `record` is undefined for a line that is not a JSON object.
 */
export function readRecordLine (line: string): { record: Partial<AuditRecord> | undefined, sealed: boolean } {
  let record: unknown
  try {
    record = JSON.parse(line)
  } catch {
    return { record: undefined, sealed: false }
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return { record: undefined, sealed: false }
  const hash = (record as { hash?: unknown }).hash
  const sealed = typeof hash === 'string' && (lineSealed(line, hash) || isSealed(record))
  return { record: record as Partial<AuditRecord>, sealed }
}

export interface VerifyChainOptions {
  /** chain heads the store knows: a chain that stops short of its head is truncated */
  heads?: ReadonlyMap<string, ChainHead>
}

type RecordSource = Iterable<Partial<AuditRecord>> | AsyncIterable<Partial<AuditRecord>>

/**
 * Verifies every chain in `records` (grouped by gatewayId; each chain's records
 * in stored order, other chains may be interleaved, as in an export ordered by
 * ts). Stops at the first record known to be bad.
 */
export async function verifyChain (records: RecordSource, options: VerifyChainOptions = {}): Promise<AuditVerifyResult> {
  const chains = new Map<string, ChainVerifier>()
  let checked = 0
  let failed: ChainVerifier | undefined
  const feed = (record: Partial<AuditRecord>): boolean => {
    checked++
    const gatewayId = typeof record === 'object' && record !== null && typeof record.gatewayId === 'string' ? record.gatewayId : ''
    let chain = chains.get(gatewayId)
    if (chain === undefined) {
      chain = new ChainVerifier(gatewayId, options.heads?.get(gatewayId))
      chains.set(gatewayId, chain)
    }
    if (chain.push(record?.seq, record?.prevHash, record?.hash, isSealed(record))) return true
    failed = chain
    return false
  }
  if (Symbol.iterator in records) {
    for (const record of records) if (!feed(record)) break
  } else {
    for await (const record of records) if (!feed(record)) break
  }
  if (failed === undefined) {
    for (const [gatewayId, head] of options.heads ?? []) {
      if (!chains.has(gatewayId)) chains.set(gatewayId, new ChainVerifier(gatewayId, head))
    }
  }
  return verifyResult(checked, failed !== undefined ? [failed] : chains.values())
}

/** The result for chains walked to their end (or to their first bad record). */
export function verifyResult (checked: number, chains: Iterable<ChainVerifier>): AuditVerifyResult {
  for (const chain of chains) {
    const firstBad = chain.finish()
    if (firstBad !== null) return { ok: false, checked, firstBad }
  }
  return { ok: true, checked }
}
