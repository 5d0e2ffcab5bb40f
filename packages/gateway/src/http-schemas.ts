// Schemas of the HTTP surface that are not documents: URL parameters, query
// strings and answers. Built from core's TypeBox schemas, compiled once by the
// route validator, and published as OpenAPI by /docs.
import { Type } from '@sinclair/typebox'
import { ERROR_CODES, MemberId, Plan, ResourceId } from '@govex/core'

export const ResourceParams = Type.Object({ resourceId: ResourceId }, { additionalProperties: false })
export const AgencyParams = Type.Object({ agencyId: MemberId }, { additionalProperties: false })
export const MemberParams = Type.Object({ id: MemberId }, { additionalProperties: false })
export const PlanParams = Type.Object({ id: Plan.properties.id }, { additionalProperties: false })

/** Query strings arrive as text: numbers are checked by pattern and read in the route. */
export const VersionQuery = Type.Object({
  version: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$', description: 'a plan version; the latest when absent' }))
}, { additionalProperties: false })

export const CatalogQuery = Type.Object({
  provider: Type.Optional(MemberId),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'words that must all occur in the name or description' })),
  classification: Type.Optional(Type.String({ minLength: 1, maxLength: 128 }))
}, { additionalProperties: false })

const Text128 = Type.String({ minLength: 1, maxLength: 128 })
const AuditFilterProperties = {
  consumer: Type.Optional(MemberId),
  provider: Type.Optional(MemberId),
  resource: Type.Optional(ResourceId),
  outcome: Type.Optional(Type.Union([Type.Literal('allowed'), Type.Literal('denied'), Type.Literal('error')])),
  kind: Type.Optional(Type.Union([Type.Literal('exchange'), Type.Literal('admin'), Type.Literal('checkpoint')])),
  from: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601, inclusive' })),
  to: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601, exclusive' })),
  userId: Type.Optional(Text128),
  caseRef: Type.Optional(Text128),
  grantId: Type.Optional(Text128),
  code: Type.Optional(Type.String({ pattern: '^GOVEX_ERR_[A-Z_]{1,40}$' }))
}

export const AuditExportQuery = Type.Object(AuditFilterProperties, { additionalProperties: false })

export const AuditVerifyQuery = Type.Object({
  from: AuditFilterProperties.from,
  to: AuditFilterProperties.to
}, { additionalProperties: false })

export const AuditStatsQuery = Type.Object({
  by: Type.Union([Type.Literal('consumer'), Type.Literal('provider'), Type.Literal('resource'), Type.Literal('outcome')], { description: 'what to group exchange records by' }),
  from: AuditFilterProperties.from,
  to: AuditFilterProperties.to
}, { additionalProperties: false })

export const AuditQuery = Type.Object({
  ...AuditFilterProperties,
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$', description: '1 to 1000, default 100' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 }))
}, { additionalProperties: false })

/** PUT /v1/directories/{agencyId} answers which directory version is now current (PROTOCOL.md). */
export const DirectoryReceipt = Type.Object({ agency: MemberId, version: Type.Integer({ minimum: 1 }) })

/** PUT /v1/disclosures/{agencyId} answers the agency and how many entries it published. */
export const DisclosureReceipt = Type.Object({ agency: MemberId, entries: Type.Integer({ minimum: 0 }) })

export const Problem = Type.Object({
  code: Type.String(),
  path: Type.String(),
  message: Type.String()
})

export const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  code: Type.Union(Object.keys(ERROR_CODES).map(c => Type.Literal(c))),
  error: Type.String(),
  message: Type.String(),
  requestId: Type.String(),
  problems: Type.Optional(Type.Array(Problem))
}, { description: 'every error: a stable code, a message that says what to do, the request id' })

/**
 * The OpenAPI `security` of a route that needs no token (the portal,
 * operations): the document's default asks every route for a Bearer JWT.
 */
export const NO_TOKEN: { security: [] } = { security: [] }

/** A 304 answer, documented for routes that honour If-None-Match. */
export const NotModified = Type.Null({ description: 'Not Modified: the If-None-Match ETag is current; no body' })

/**
 * The error answers a route may give, for its OpenAPI description; every route
 * may also answer 503 GOVEX_ERR_UNAVAILABLE (its stores do not answer, or are not loaded yet).
 */
export function errorResponses (...statuses: number[]): Record<string, typeof ErrorBody> {
  const out: Record<string, typeof ErrorBody> = {}
  for (const status of [...statuses, 503]) out[String(status)] = ErrorBody
  return out
}
