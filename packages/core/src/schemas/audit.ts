// Audit record (MODEL.md "Audit record"): one per authenticated exchange request
// and per admin change, hash-chained per gateway.
import { Type, type Static } from '@sinclair/typebox'
import { MemberId, Digest, Instant } from './common.js'
import { PlanRef } from './envelope.js'

export const OUTCOMES = ['allowed', 'denied', 'error'] as const
export const Outcome = Type.Union(OUTCOMES.map(o => Type.Literal(o)))
export type Outcome = Static<typeof Outcome>

export const ADMIN_ACTIONS = ['plan.create', 'plan.approve', 'plan.activate', 'plan.revoke', 'directory.put', 'member.put', 'disclosure.put'] as const
export type AdminAction = typeof ADMIN_ACTIONS[number]

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

const chainFields = {
  gatewayId: MemberId,
  seq: Type.Integer({ minimum: 1 }),
  ts: Instant,
  prevHash: Digest,
  hash: Digest
}

const resultFields = {
  outcome: Outcome,
  code: Nullable(Type.String()),
  status: Type.Integer()
}

/**
 * An exchange record's digests (PROTOCOL.md "Exchange"): `request` of the body
 * bytes the gateway forwarded (the gateway JWT's `digest`), `response` of the
 * minimised data the consumer received. A 5xx after the forward (the provider
 * failed or timed out) keeps `request` with `response` null; a record of a
 * request refused before the forward has `digests` null.
 */
export const AuditDigests = Type.Object({
  request: Digest,
  response: Nullable(Digest)
}, { additionalProperties: false })
export type AuditDigests = Static<typeof AuditDigests>

export const ExchangeAuditRecord = Type.Object({
  ...chainFields,
  kind: Type.Literal('exchange'),
  /** the envelope id (or a generated UUID when the body had none) */
  id: Type.String(),
  consumer: MemberId,
  provider: Nullable(Type.String()),
  resource: Nullable(Type.String()),
  userId: Nullable(Type.String()),
  purpose: Nullable(Type.String()),
  caseRef: Nullable(Type.String()),
  plan: Nullable(PlanRef),
  grantId: Nullable(Type.String()),
  fields: Nullable(Type.Array(Type.String())),
  ...resultFields,
  latencyMs: Type.Number(),
  digests: Nullable(AuditDigests)
}, { additionalProperties: false })
export type ExchangeAuditRecord = Static<typeof ExchangeAuditRecord>

export const AdminAuditRecord = Type.Object({
  ...chainFields,
  kind: Type.Literal('admin'),
  id: Type.String(),
  actor: MemberId,
  action: Type.String(),
  /** what the action wrote (`<plan id>@<version>`, a member or agency id); null when the request named none */
  target: Nullable(Type.String()),
  /** digest of the document the action wrote, null when refused */
  digest: Nullable(Digest),
  ...resultFields
}, { additionalProperties: false })
export type AdminAuditRecord = Static<typeof AdminAuditRecord>

/**
 * A checkpoint: the gateway's Ed25519 signature (detached JWS, payload the
 * head hash) over the chain head just before it, appended by the log itself
 * every N records. Whoever holds the gateway's public key can then prove that
 * nothing up to `head.seq` was altered, and resume verification from here.
 */
export const CheckpointAuditRecord = Type.Object({
  ...chainFields,
  kind: Type.Literal('checkpoint'),
  id: Type.String(),
  /** the record before this one: its seq and hash (equal to this record's prevHash) */
  head: Type.Object({ seq: Type.Integer({ minimum: 1 }), hash: Digest }, { additionalProperties: false }),
  /** the signing key's kid, one of the gateway member's keys */
  kid: Type.String(),
  /** detached JWS `<b64url(header)>..<b64url(signature)>` over the ASCII bytes of head.hash */
  signature: Type.String()
}, { additionalProperties: false })
export type CheckpointAuditRecord = Static<typeof CheckpointAuditRecord>

export const AuditRecord = Type.Union([ExchangeAuditRecord, AdminAuditRecord, CheckpointAuditRecord], { $id: 'AuditRecord' })
export type AuditRecord = Static<typeof AuditRecord>

/** The record kinds, as the `kind` filter takes them. */
export const AUDIT_KINDS = ['exchange', 'admin', 'checkpoint'] as const
export type AuditKind = typeof AUDIT_KINDS[number]

type ChainKeys = 'gatewayId' | 'seq' | 'ts' | 'prevHash' | 'hash'
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/**
 * What a caller hands to AuditLog.append(): the log adds gatewayId, seq, ts,
 * prevHash and hash. Checkpoints are the log's own, never a caller's.
 */
export type AuditEntry = DistributiveOmit<ExchangeAuditRecord | AdminAuditRecord, ChainKeys>
export type CheckpointAuditEntry = Omit<CheckpointAuditRecord, ChainKeys>
export type ExchangeAuditEntry = Omit<ExchangeAuditRecord, ChainKeys>
export type AdminAuditEntry = Omit<AdminAuditRecord, ChainKeys>
