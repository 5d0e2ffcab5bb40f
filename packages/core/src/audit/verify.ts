// Walking hash chains (ARCHITECTURE.md "Trust": verify names the first record
// that was changed, removed or reordered, and checkpoints prove, with the
// gateway's public key, that nothing before them was rewritten). One
// ChainVerifier per gateway chain, fed records in stored order with constant
// memory; ChainSet groups any stream of records (an export is ordered by ts,
// not by chain) by gatewayId.
import type { KeyObject } from 'node:crypto'
import { ZERO_DIGEST } from '../canonical.js'
import type { AuditRecord, CheckpointAuditRecord } from '../schemas/audit.js'
import type { AuditVerifyResult, ChainHead, CheckpointKeys } from '../store/types.js'
import { checkpointFault } from './checkpoint.js'
import type { ChainRun, ChunkSummary } from './chunk-check.js'
import { eachLine, inspectLine, type LineFacts } from './line-scan.js'
import { isSealed } from './verify-record.js'

export { isSealed, readRecordLine } from './verify-record.js'
export { eachLine, inspectLine, type LineFacts } from './line-scan.js'
export { checkedInOrder, checkVerifyThreads, chunkChecker, threadsFor, type ChunkChecker, type CheckedChunk } from './verify-pool.js'
export type { ChainRun, ChunkSummary } from './chunk-check.js'
export { Spares } from './lines.js'

/**
 * - `changed`: a record's content does not match its hash, or the next record
 *   does not link to it (it was rewritten with a fresh hash);
 * - `missing`: a seq never appears (a record was removed);
 * - `reordered`: a seq appears out of place (records moved or swapped);
 * - `truncated`: the chain ends before the head the store knows, or its last
 *   line is torn;
 * - `forged-checkpoint`: a checkpoint does not sign the record before it with
 *   a key of its gateway (the chain before it was rewritten, or the checkpoint made up).
 */
export type ChainFault = 'changed' | 'missing' | 'reordered' | 'truncated' | 'forged-checkpoint'

export interface BadRecord {
  gatewayId: string
  seq: number
  reason: ChainFault
}

export interface ChainVerifierOptions {
  /** checkpoint keys; without them checkpoints are checked for their place only */
  keys?: CheckpointKeys | undefined
  /** start after this record (a trusted checkpoint) instead of at seq 1 */
  start?: ChainHead | undefined
}

export class ChainVerifier {
  readonly gatewayId: string
  private readonly head: ChainHead | undefined
  private readonly keys: CheckpointKeys | undefined
  /** the seq the next record should have */
  private expected: number
  private prevHash: string
  /**
   * The first seq skipped. Whether it is missing or comes later (reordered)
   * is known only further on, so records after it are only watched for it:
   * everything found later sits further along the chain.
   */
  private gap: number | null = null
  private bad: BadRecord | null = null
  private headHash: string | undefined
  /** checkpoint signatures checked */
  signatures = 0
  /** seq of the last checkpoint whose signature was checked */
  lastSigned: number | null = null

  constructor (gatewayId: string, head?: ChainHead, options: ChainVerifierOptions = {}) {
    this.gatewayId = gatewayId
    this.head = head
    this.keys = options.keys
    this.expected = (options.start?.seq ?? 0) + 1
    this.prevHash = options.start?.hash ?? ZERO_DIGEST
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
   * hash; `checkpoint` is the parsed record when it is a checkpoint. Returns
   * false once the result is final.
   */
  push (seq: unknown, prevHash: unknown, hash: unknown, sealed: boolean, checkpoint?: Partial<CheckpointAuditRecord>): boolean {
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
      // rewritten (with a recomputed hash), or seq 1 was re-rooted. A
      // checkpoint that does not link is forged outright: it was made for
      // another chain.
      if (prevHash !== this.prevHash) return this.fail(checkpoint !== undefined ? seq : Math.max(1, seq - 1), checkpoint !== undefined ? 'forged-checkpoint' : 'changed')
      if (checkpoint !== undefined && !this.checkpointHolds(checkpoint)) return this.fail(seq, 'forged-checkpoint')
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

  private checkpointHolds (record: Partial<CheckpointAuditRecord>): boolean {
    const key = this.keyOf(record)
    if (checkpointFault(record, key) !== null) return false
    if (key !== undefined) {
      this.signatures++
      this.lastSigned = record.seq as number
    }
    return true
  }

  private keyOf (record: Partial<CheckpointAuditRecord>): KeyObject | null | undefined {
    return typeof record.kid === 'string' ? this.keys?.(this.gatewayId, record.kid) : this.keys === undefined ? undefined : null
  }

  /**
   * Whether a clean run of records (chunk-check.ts) can be taken in one step
   * (advance), with the outcome pushing them one by one would have. false
   * says they must be pushed one by one: the run does not continue the chain
   * as walked so far, holds the head the store knows, or has a checkpoint
   * whose signature fails — the walk names the first bad record exactly.
   */
  canAdvance (run: ChainRun): boolean {
    if (this.bad !== null || this.gap !== null || run.count === 0) return false
    if (run.firstSeq !== this.expected || run.prevHash !== this.prevHash) return false
    const head = this.head
    if (head !== undefined && head.seq >= run.firstSeq && head.seq < run.lastSeq) return false
    for (const record of run.checkpoints) if (checkpointFault(record, this.keyOf(record)) !== null) return false
    return true
  }

  /** Takes a run canAdvance accepted. */
  advance (run: ChainRun): void {
    for (const record of run.checkpoints) {
      if (this.keyOf(record) === undefined) continue
      this.signatures++
      this.lastSigned = record.seq as number
    }
    this.prevHash = run.hash
    this.expected = run.lastSeq + 1
    if (this.head !== undefined && this.head.seq === run.lastSeq) this.headHash = run.hash
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

/** Feeds a checked line to its chain; false once the chain's result is final. */
export function pushLine (chain: ChainVerifier, facts: LineFacts): boolean {
  const checkpoint = facts.kind === 'checkpoint' && facts.record !== undefined ? facts.record as Partial<CheckpointAuditRecord> : undefined
  return chain.push(facts.seq, facts.prevHash, facts.hash, facts.sealed, checkpoint)
}

/** Feeds a line of a chain's own file or stream: a record of another gateway there is not sealed (it does not belong). */
export function pushStoredLine (chain: ChainVerifier, facts: LineFacts): boolean {
  if (facts.gatewayId !== chain.gatewayId) facts.sealed = false
  return pushLine(chain, facts)
}

/**
 * Feeds a block of one chain's own file or stream (see pushStoredLine) with
 * its checkChunk summary: taken in one step when clean and continuing the
 * chain, else walked line by line. Returns the records checked; `chain.done`
 * tells whether the chain failed in it. `b` is written to briefly when walked.
 */
export function feedStoredChunk (chain: ChainVerifier, b: Buffer, summary: ChunkSummary): number {
  const run = summary.runs[0]
  if (summary.clean && summary.runs.length <= 1 && (run === undefined || (run.gatewayId === chain.gatewayId && chain.canAdvance(run)))) {
    if (run === undefined) return 0
    chain.advance(run)
    return run.count
  }
  let checked = 0
  eachLine(b, facts => {
    checked++
    return pushStoredLine(chain, facts)
  })
  return checked
}

export interface VerifyChainOptions {
  /** chain heads the store knows: a chain that stops short of its head is truncated */
  heads?: ReadonlyMap<string, ChainHead>
  /** checkpoint keys by gateway and kid (see checkpointKeysOf) */
  keys?: CheckpointKeys
  /** one key for every chain's checkpoints (a verifier holding only the gateway's public key) */
  publicKey?: KeyObject
  /**
   * resume from this checkpoint: its signature is checked first, then its
   * chain from the record after it (earlier records of that chain are skipped)
   */
  from?: Partial<CheckpointAuditRecord>
  /** ISO 8601 (in records' form), exclusive: each chain stops at its first record at or after it */
  to?: string
  /** worker threads for large inputs (verifyFile; see threadsFor): 0 for none, default one per core for 32 MB or more */
  threads?: number
}

/** Records (or checked lines) of several chains, each fed to its own verifier. */
export class ChainSet {
  private readonly chains = new Map<string, ChainVerifier>()
  private readonly keys: CheckpointKeys | undefined
  /** chains past `to` */
  private readonly ended = new Set<string>()
  private failed: ChainVerifier | undefined
  checked = 0

  private readonly heads: ReadonlyMap<string, ChainHead> | undefined

  constructor (private readonly options: VerifyChainOptions = {}) {
    // a range stops before the head: the head cannot be checked then
    this.heads = options.to === undefined ? options.heads : undefined
    const publicKey = options.publicKey
    this.keys = options.keys ?? (publicKey !== undefined ? () => publicKey : undefined)
    const from = options.from
    if (from !== undefined) {
      const gatewayId = typeof from.gatewayId === 'string' ? from.gatewayId : ''
      const chain = new ChainVerifier(gatewayId, this.heads?.get(gatewayId), { keys: this.keys, start: { seq: Number(from.seq) - 1, hash: String(from.prevHash) } })
      this.chains.set(gatewayId, chain)
      this.checked = 1
      const sealed = from.kind === 'checkpoint' && isSealed(from)
      if (!chain.push(from.seq, from.prevHash, from.hash, sealed, sealed ? from : undefined)) {
        this.failed = chain
      }
    }
  }

  get done (): boolean {
    return this.failed !== undefined
  }

  private chainOf (gatewayId: string): ChainVerifier {
    let chain = this.chains.get(gatewayId)
    if (chain === undefined) {
      chain = new ChainVerifier(gatewayId, this.heads?.get(gatewayId), { keys: this.keys })
      this.chains.set(gatewayId, chain)
    }
    return chain
  }

  /** Feeds a record or a checked line; false once the result is final. */
  feed (facts: LineFacts): boolean {
    if (this.failed !== undefined) return false
    const gatewayId = typeof facts.gatewayId === 'string' ? facts.gatewayId : ''
    if (this.ended.has(gatewayId)) return true
    const from = this.options.from
    if (from !== undefined && gatewayId === from.gatewayId && typeof facts.seq === 'number' && facts.seq <= Number(from.seq)) return true
    const to = this.options.to
    if (to !== undefined && typeof facts.ts === 'string' && facts.ts >= to && facts.sealed) {
      this.ended.add(gatewayId)
      return true
    }
    this.checked++
    const chain = this.chainOf(gatewayId)
    if (pushLine(chain, facts)) return true
    this.failed = chain
    return false
  }

  /**
   * Feeds a block of lines (whole lines, each ending in a newline) with its
   * summary from checkChunk: a clean block whose runs each continue their
   * chain is taken run by run; any other is walked line by line. Returns the
   * lines walked. `b` is written to briefly when walked (see eachLine).
   */
  feedChunk (b: Buffer, summary: ChunkSummary): number {
    if (this.failed !== undefined) return 0
    if (summary.clean && this.options.from === undefined && this.options.to === undefined) {
      const chains = summary.runs.map(run => this.chainOf(run.gatewayId))
      if (summary.runs.every((run, i) => (chains[i] as ChainVerifier).canAdvance(run))) {
        summary.runs.forEach((run, i) => {
          (chains[i] as ChainVerifier).advance(run)
          this.checked += run.count
        })
        return summary.lines
      }
    }
    return eachLine(b, facts => this.feed(facts))
  }

  /** The source ends in a line cut short, of this chain (or of an unknown one: ''). */
  tornTail (gatewayId: string): void {
    if (this.failed !== undefined || this.ended.has(gatewayId)) return
    const chain = this.chainOf(gatewayId)
    chain.tornTail()
    this.failed = chain
  }

  /** Feeds a parsed record. */
  feedRecord (record: Partial<AuditRecord>): boolean {
    const r = typeof record === 'object' && record !== null ? record : {}
    return this.feed({
      gatewayId: r.gatewayId, seq: r.seq, prevHash: r.prevHash, hash: r.hash, ts: r.ts, kind: r.kind,
      sealed: isSealed(record), record: r
    })
  }

  result (): AuditVerifyResult {
    if (this.failed === undefined) {
      // a chain the store knows of but that yielded nothing is truncated
      for (const gatewayId of this.heads?.keys() ?? []) this.chainOf(gatewayId)
    }
    return verifyResult(this.checked, this.failed !== undefined ? [this.failed] : this.chains.values())
  }
}

type RecordSource = Iterable<Partial<AuditRecord>> | AsyncIterable<Partial<AuditRecord>>

/**
 * Verifies every chain in `records` (grouped by gatewayId; each chain's records
 * in stored order, other chains may be interleaved, as in an export ordered by
 * ts). Stops at the first record known to be bad.
 */
export async function verifyChain (records: RecordSource, options: VerifyChainOptions = {}): Promise<AuditVerifyResult> {
  const set = new ChainSet(options)
  if (Symbol.iterator in records) {
    for (const record of records) if (!set.feedRecord(record)) break
  } else {
    for await (const record of records) if (!set.feedRecord(record)) break
  }
  return set.result()
}

/**
 * verifyChain over stored lines (a log file, an NDJSON export): each line is
 * checked by hashing its text when it is in the written form, so no record is
 * parsed or re-serialised on the way.
 */
export async function verifyLines (lines: Iterable<string> | AsyncIterable<string>, options: VerifyChainOptions = {}): Promise<AuditVerifyResult> {
  const set = new ChainSet(options)
  const feed = (line: string): boolean => line === '' || set.feed(inspectLine(line))
  if (Symbol.iterator in lines) {
    for (const line of lines) if (!feed(line)) break
  } else {
    for await (const line of lines) if (!feed(line)) break
  }
  return set.result()
}

/** The result for chains walked to their end (or to their first bad record). */
export function verifyResult (checked: number, chains: Iterable<ChainVerifier>): AuditVerifyResult {
  let signatures = 0
  const lastCheckpoint: Record<string, number> = {}
  for (const chain of chains) {
    const firstBad = chain.finish()
    if (firstBad !== null) return { ok: false, checked, firstBad }
    signatures += chain.signatures
    if (chain.lastSigned !== null) lastCheckpoint[chain.gatewayId] = chain.lastSigned
  }
  return signatures > 0 ? { ok: true, checked, checkpoints: signatures, lastCheckpoint } : { ok: true, checked }
}
