// Exchange envelopes (PROTOCOL.md "Exchange"): the consumer's request, the
// gateway's answer, and the body the gateway forwards to the provider.
import { Type, type Static } from '@sinclair/typebox'
import { EnvelopeId, FieldName, Token, MemberId, ResourceId, Digest, LIMITS } from './common.js'

export const RequestEnvelope = Type.Object({
  id: EnvelopeId,
  purpose: Token,
  userId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  caseRef: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  fields: Type.Optional(Type.Array(FieldName, { minItems: 1, maxItems: LIMITS.fieldsPerGrant, uniqueItems: true })),
  query: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 64 }))
}, { additionalProperties: false, $id: 'RequestEnvelope' })
export type RequestEnvelope = Static<typeof RequestEnvelope>

export const PlanRef = Type.Object({
  id: Type.String(),
  version: Type.Integer()
}, { additionalProperties: false })
export type PlanRef = Static<typeof PlanRef>

export const ExchangeDigests = Type.Object({
  request: Digest,
  response: Digest
}, { additionalProperties: false })
export type ExchangeDigests = Static<typeof ExchangeDigests>

export const ResponseData = Type.Union([
  Type.Record(Type.String(), Type.Unknown()),
  Type.Array(Type.Record(Type.String(), Type.Unknown())),
  Type.Null()
])
export type ResponseData = Static<typeof ResponseData>

export const ResponseEnvelope = Type.Object({
  id: EnvelopeId,
  requestId: EnvelopeId,
  resource: ResourceId,
  consumer: MemberId,
  provider: MemberId,
  plan: PlanRef,
  grantId: Type.String(),
  fields: Type.Array(FieldName),
  data: ResponseData,
  digests: ExchangeDigests,
  auditSeq: Type.Integer({ minimum: 1 })
}, { additionalProperties: false, $id: 'ResponseEnvelope' })
export type ResponseEnvelope = Static<typeof ResponseEnvelope>

/** What the gateway POSTs to the provider's endpoint. */
export const ProviderRequest = Type.Object({
  requestId: EnvelopeId,
  consumer: MemberId,
  resource: ResourceId,
  purpose: Token,
  userId: Type.Union([Type.String(), Type.Null()]),
  caseRef: Type.Union([Type.String(), Type.Null()]),
  fields: Type.Array(FieldName),
  query: Type.Record(Type.String(), Type.Unknown())
}, { additionalProperties: false })
export type ProviderRequest = Static<typeof ProviderRequest>

/** What a provider answers: `{ data }`. */
export const ProviderResponse = Type.Object({
  data: ResponseData
})
export type ProviderResponse = Static<typeof ProviderResponse>
