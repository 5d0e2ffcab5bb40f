// Sharing plan (MODEL.md "Sharing plan", Art. 12) and its stored state.
import { Type, type Static } from '@sinclair/typebox'
import { MemberId, ResourceId, FieldName, Text, LongText, Instant, Digest, Token, LIMITS } from './common.js'

export const Grant = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 128 }),
  consumer: MemberId,
  resource: ResourceId,
  fields: Type.Array(FieldName, { minItems: 1, maxItems: LIMITS.fieldsPerGrant, uniqueItems: true }),
  purposes: Type.Array(Token, { minItems: 1, maxItems: LIMITS.purposesPerGrant, uniqueItems: true }),
  legalBasis: Type.Optional(LongText),
  conditions: Type.Optional(Type.Object({
    requireCaseRef: Type.Optional(Type.Boolean()),
    requireUserId: Type.Optional(Type.Boolean())
  }, { additionalProperties: false })),
  quota: Type.Optional(Type.Object({
    perMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 })),
    perDay: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 }))
  }, { additionalProperties: false })),
  validFrom: Type.Optional(Instant),
  validUntil: Type.Optional(Instant)
}, { additionalProperties: false })
export type Grant = Static<typeof Grant>

export const Plan = Type.Object({
  id: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$', maxLength: 128 }),
  version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  title: Text,
  validFrom: Instant,
  validUntil: Instant,
  grants: Type.Array(Grant, { maxItems: LIMITS.grantsPerPlan })
}, { additionalProperties: false, $id: 'Plan' })
export type Plan = Static<typeof Plan>

export const PLAN_STATUSES = ['draft', 'approved', 'active', 'superseded', 'revoked'] as const
export const PlanStatus = Type.Union(PLAN_STATUSES.map(s => Type.Literal(s)))
export type PlanStatus = Static<typeof PlanStatus>

export const Approval = Type.Object({
  approver: MemberId,
  kid: Type.String({ maxLength: 128 }),
  signature: Type.String({ maxLength: 1024 }),
  at: Instant
}, { additionalProperties: false })
export type Approval = Static<typeof Approval>

/** Lifecycle state kept beside a plan document. */
export const PlanStateFields = Type.Object({
  status: PlanStatus,
  digest: Digest,
  approvals: Type.Array(Approval),
  activatedAt: Type.Union([Instant, Type.Null()]),
  revokedAt: Type.Optional(Type.Union([Instant, Type.Null()])),
  supersededAt: Type.Optional(Type.Union([Instant, Type.Null()]))
}, { additionalProperties: false })
export type PlanStateFields = Static<typeof PlanStateFields>

/**
 * A plan as stored and answered: the document's own properties plus its state
 * (PROTOCOL.md: "the document plus status, digest, approvals, activatedAt").
 * `digest` covers only the document's properties (see planDocument()).
 */
export const PlanState = Type.Composite([Plan, PlanStateFields], { additionalProperties: false })
export type PlanState = Static<typeof PlanState>

const PLAN_KEYS = ['id', 'version', 'title', 'validFrom', 'validUntil', 'grants'] as const

/** The plan document inside a state, as submitted (the bytes its digest covers). */
export function planDocument (state: Plan | PlanState): Plan {
  return { id: state.id, version: state.version, title: state.title, validFrom: state.validFrom, validUntil: state.validUntil, grants: state.grants }
}
export { PLAN_KEYS }

/** Body of `POST /v1/plans/{id}/approve`. */
export const ApproveBody = Type.Object({
  signature: Type.String({ minLength: 1, maxLength: 1024, description: 'detached JWS (RFC 7515 App. F) over the plan digest' })
}, { additionalProperties: false })
export type ApproveBody = Static<typeof ApproveBody>
