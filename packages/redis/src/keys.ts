// Key layout of a govex deployment on Redis. Every key carries the `{govex}`
// hash tag so a Redis Cluster keeps them in one slot: the Lua scripts that
// activate a plan or append an audit batch touch several keys atomically.
import { GovexError } from '@govex/core'

export interface KeyLayout {
  readonly prefix: string
  /** pub/sub channel of StoreChange JSON */
  readonly changes: string
  readonly members: string
  readonly directories: string
  readonly disclosures: string
  /** hash `<id>:<version>` -> PlanState JSON */
  readonly plans: string
  /** hash `<id>` -> latest version */
  readonly planLatest: string
  /** string `<id>:<version>` of the active plan */
  readonly planActive: string
  /** set of gateway ids that have an audit chain */
  readonly auditGateways: string
  /** hash gateway id -> `<seq> <hash>` of its chain head, to detect a truncated stream */
  readonly auditHeads: string
  replay (id: string): string
  quotaMinute (key: string, bucket: number): string
  quotaDay (key: string, day: string): string
  /** `audit:<gatewayId>`: gateway ids hold no colon, so no other key can collide */
  auditStream (gatewayId: string): string
  /** sorted set by ts (ms) of `<gatewayId> <seq, zero-padded>` */
  auditIndex (field: AuditIndexField, value: string): string
}

/** `checkpoint` is per gateway (value: its id): where a range verification starts */
export type AuditIndexField = 'all' | 'consumer' | 'provider' | 'resource' | 'checkpoint'

export const DEFAULT_PREFIX = 'govex:'

export function keyLayout (prefix: string = DEFAULT_PREFIX): KeyLayout {
  if (typeof prefix !== 'string' || /[{}\s]/.test(prefix)) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `Redis key prefix ${JSON.stringify(prefix)} may not contain braces or white space; use e.g. "govex:"`)
  }
  const base = `${prefix}{govex}:`
  return {
    prefix,
    changes: `${prefix}changes`,
    members: base + 'members',
    directories: base + 'directories',
    disclosures: base + 'disclosures',
    plans: base + 'plans',
    planLatest: base + 'plans:latest',
    planActive: base + 'plans:active',
    auditGateways: base + 'audit-gateways',
    auditHeads: base + 'audit-heads',
    replay: id => base + 'replay:' + id,
    quotaMinute: (key, bucket) => `${base}quota:${key}:m:${bucket}`,
    quotaDay: (key, day) => `${base}quota:${key}:d:${day}`,
    auditStream: gatewayId => base + 'audit:' + gatewayId,
    auditIndex: (field, value) => field === 'all' ? base + 'audit-idx:all' : `${base}audit-idx:${field}:${value}`
  }
}

/**
 * Index member of a record. A space sorts below every character of a member id
 * and the seq is zero-padded, so Redis's order among equal scores is the order
 * of compareRecords (ts, gatewayId, seq).
 */
export function indexMember (gatewayId: string, seq: number): string {
  return gatewayId + ' ' + String(seq).padStart(16, '0')
}

export function parseIndexMember (member: string): { gatewayId: string, seq: number } {
  const space = member.lastIndexOf(' ')
  return { gatewayId: member.slice(0, space), seq: Number(member.slice(space + 1)) }
}
