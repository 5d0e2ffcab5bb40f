// The storage contract (ARCHITECTURE.md "Storage"): one interface per store,
// implemented in memory and on files here, on Redis in @govex/redis. Every
// implementation passes the same contract suite (./contract.ts).
import type { Member } from '../schemas/member.js'
import type { Directory } from '../schemas/directory.js'
import type { DisclosureCatalog } from '../schemas/disclosure.js'
import type { PlanState, PlanStatus } from '../schemas/plan.js'
import type { KeyObject } from 'node:crypto'
import type { AuditEntry, AuditRecord, Outcome } from '../schemas/audit.js'

export interface MemberRegistry {
  get (id: string): Promise<Member | undefined>
  list (): Promise<Member[]>
  /** creates or replaces */
  put (member: Member): Promise<void>
}

export interface DirectoryStore {
  get (agency: string): Promise<Directory | undefined>
  list (): Promise<Directory[]>
  /** creates or replaces the agency's current directory */
  put (directory: Directory): Promise<void>
}

export interface DisclosureStore {
  get (agency: string): Promise<DisclosureCatalog | undefined>
  list (): Promise<DisclosureCatalog[]>
  put (catalog: DisclosureCatalog): Promise<void>
}

export interface PlanStore {
  /** the given version, or the latest version of the plan when `version` is omitted */
  get (id: string, version?: number): Promise<PlanState | undefined>
  /**
   * The highest version of the plan whose status is `status`, if any (versions
   * need not be consecutive): the draft `approve` acts on, the approved version
   * `activate` acts on (PROTOCOL.md "Members, directories, plans").
   */
  latestWith (id: string, status: PlanStatus): Promise<PlanState | undefined>
  /** every version of every plan, ordered by id then version */
  list (): Promise<PlanState[]>
  /** the one plan with status `active`, if any */
  getActive (): Promise<PlanState | undefined>
  /** stores a new (id, version); rejects with GovexError GOVEX_ERR_CONFLICT when it exists */
  create (state: PlanState): Promise<void>
  /**
   * Replaces the state of an existing (id, version) if its stored status is
   * `expected` (compare-and-set); rejects with GOVEX_ERR_CONFLICT otherwise and
   * GOVEX_ERR_NOT_FOUND when the version does not exist. When `state.status` is
   * `active`, the previously active plan (if any) becomes `superseded` (with
   * `supersededAt` = `state.activatedAt`) in the same atomic step.
   */
  update (state: PlanState, expected: PlanStatus): Promise<void>
}

export interface ReplayGuard {
  /** true when `id` was not claimed within the window, and claims it; false for a replay */
  claim (id: string, windowS: number): Promise<boolean>
  /** gives a claimed id back (an exchange admits through Stores.admit, which needs no give-back) */
  release (id: string): Promise<void>
}

export interface QuotaLimits {
  perMinute?: number | undefined
  perDay?: number | undefined
}

export type QuotaDecision = { ok: true } | { ok: false, retryAfterS: number, window: 'minute' | 'day' }

export interface QuotaCounter {
  /**
   * Counts one request for `key` (a grant) at `nowMs` if both windows allow it,
   * atomically; counts nothing when either is spent. `perMinute` is a rolling
   * 60 s window (sliding-window counter), `perDay` the UTC calendar day.
   */
  consume (key: string, limits: QuotaLimits, nowMs: number): Promise<QuotaDecision>
}

/**
 * What an exchange that passed every check before the forward spends: its
 * envelope id and, when its grant has a quota, one request of it.
 */
export interface Admission {
  /** the envelope id; UUIDs are case-insensitive, so admit() compares it lower-cased */
  id: string
  /** how long the id stays used, in seconds */
  windowS: number
  /** the grant's quota; absent when the grant has none */
  quota?: { key: string, limits: QuotaLimits, nowMs: number } | undefined
}

export type AdmissionDecision =
  | { ok: true }
  | { ok: false, reason: 'replay' }
  | { ok: false, reason: 'quota', retryAfterS: number, window: 'minute' | 'day' }

export interface AuditFilter {
  consumer?: string | undefined
  provider?: string | undefined
  resource?: string | undefined
  outcome?: Outcome | undefined
  kind?: 'exchange' | 'admin' | 'checkpoint' | undefined
  /** ISO 8601, inclusive */
  from?: string | undefined
  /** ISO 8601, exclusive */
  to?: string | undefined
  userId?: string | undefined
  caseRef?: string | undefined
  grantId?: string | undefined
  code?: string | undefined
  gatewayId?: string | undefined
}

export interface AuditPage {
  records: AuditRecord[]
  /** opaque; null when there is nothing more */
  nextCursor: string | null
}

export interface AuditVerifyResult {
  ok: boolean
  checked: number
  firstBad?: { gatewayId: string, seq: number, reason: string }
  /** checkpoint signatures checked with the gateways' keys (absent when none were) */
  checkpoints?: number
  /**
   * per chain, the seq of its last checkpoint whose signature was checked:
   * nothing before it can have been rewritten (absent when none were checked)
   */
  lastCheckpoint?: Record<string, number>
}

/**
 * The key a checkpoint of `gatewayId` signed with `kid` must verify with:
 * undefined when the gateway is unknown (its checkpoints cannot be checked),
 * null when the gateway is known but has no such key (the checkpoint is forged).
 */
export type CheckpointKeys = (gatewayId: string, kid: string) => KeyObject | null | undefined

export interface AuditVerifyOptions {
  /**
   * ISO 8601: check each chain from its last checkpoint before this instant
   * (or from its start when there is none), so the records from here on are
   * proven without walking the whole log
   */
  from?: string | undefined
  /** ISO 8601, exclusive: stop each chain at its first record at or after it */
  to?: string | undefined
  /** check checkpoint signatures with these keys */
  keys?: CheckpointKeys | undefined
  /** called now and then with the records checked so far (the CLI's progress line) */
  onProgress?: ((checked: number) => void) | undefined
}

/** PROTOCOL.md: every change to members, directories or plans reaches every gateway sharing the store within 1 s */
export const CHANGE_REACH_MS = 1000

export const AUDIT_STATS_BY = ['consumer', 'provider', 'resource', 'outcome'] as const
export type AuditStatsBy = typeof AUDIT_STATS_BY[number]

export interface AuditStatsGroup {
  /** the consumer, provider, resource or outcome; null for records without one (a refused unknown resource) */
  key: string | null
  count: number
  allowed: number
  denied: number
  error: number
  /** nearest-rank percentiles of latencyMs; null for an empty group */
  latencyMs: { p50: number | null, p95: number | null, p99: number | null }
}

export interface AuditStats {
  by: AuditStatsBy
  from: string | null
  to: string | null
  /** exchange records counted */
  total: number
  /** by count, largest first (then by key) */
  groups: AuditStatsGroup[]
}

export interface ChainHead {
  seq: number
  hash: string
}

/**
 * The audit log: appends go to this gateway's chain; reads cover every chain in
 * the store, ordered by (ts, gatewayId, seq).
 */
export interface AuditLog {
  readonly gatewayId: string
  /** assigns seq, ts, prevHash and hash; resolves only once the record is durable */
  append (entry: AuditEntry): Promise<AuditRecord>
  /** this gateway's chain head (seq 0 and the zero digest when empty) */
  head (): ChainHead
  /** one page, oldest first; rejects with GOVEX_ERR_BAD_REQUEST for a cursor of another query */
  query (filter: AuditFilter, limit: number, cursor?: string): Promise<AuditPage>
  /** every matching record, oldest first, streamed */
  scan (filter: AuditFilter): AsyncIterable<AuditRecord>
  /** walks every chain (or the part of each a time range needs), naming the first bad record */
  verify (options?: AuditVerifyOptions): Promise<AuditVerifyResult>
  /** counts and latency percentiles of exchange records per group; `filter` as for query */
  statistics (by: AuditStatsBy, filter?: AuditFilter): Promise<AuditStats>
  /** waits for pending appends to be durable */
  flush (): Promise<void>
  close (): Promise<void>
}

export type StoreChange =
  | { kind: 'member', id: string }
  | { kind: 'directory', id: string }
  | { kind: 'disclosure', id: string }
  | { kind: 'plan', id: string, version: number }
  | { kind: 'reload' }

/** All the stores one gateway uses, opened together. */
export interface Stores {
  members: MemberRegistry
  directories: DirectoryStore
  disclosures: DisclosureStore
  plans: PlanStore
  replay: ReplayGuard
  quota: QuotaCounter
  audit: AuditLog
  /**
   * Spends the envelope id and the quota in one atomic step (PROTOCOL.md: only
   * a request that passes every check consumes either): a replay spends
   * nothing, a refused quota leaves the id unused, and of concurrent requests
   * with one id exactly one is admitted.
   */
  admit (admission: Admission): Promise<AdmissionDecision>
  /**
   * Change notification: called for every change made through any gateway
   * sharing the store (within CHANGE_REACH_MS), and with `reload` after a reconnect.
   * Returns an unsubscribe function.
   */
  subscribe (listener: (change: StoreChange) => void): () => void
  /** resolves when the stores answer; rejects with GOVEX_ERR_UNAVAILABLE otherwise */
  ping (): Promise<void>
  close (): Promise<void>
}
