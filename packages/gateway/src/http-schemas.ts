// Schemas of the HTTP surface that are not documents: URL parameters, query
// strings and answers. Built from core's TypeBox schemas, compiled once by the
// route validator, and published as OpenAPI by /docs. Answer schemas only
// document: app.ts serialises every body with JSON.stringify, whatever the
// route's response schema says, so no answer is trimmed or reordered by one.
import { Type } from '@sinclair/typebox'
import type { Static, TSchema, TUnsafe } from '@sinclair/typebox'
import {
  AUDIT_STATS_BY, AuditRecord, Digest, Directory, DisclosureCatalog, ERROR_CODES, Grant, Member, MemberId, Plan, PlanRef,
  PlanState, Resource, ResourceId
} from '@govex/core'
import type { AuditPage, AuditStats, AuditVerifyResult, LintFinding } from '@govex/core'

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
  by: Type.Optional(Type.Union([Type.Literal('consumer'), Type.Literal('provider'), Type.Literal('resource'), Type.Literal('outcome')], { description: 'what to group exchange records by (default consumer, as `govex audit stats`)' })),
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

// ---- answers ----

/** Compile-time proof that an answer schema describes the type the route returns. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
function describes<_T extends true> (): void {}

/**
 * An answer that is one core document: in the OpenAPI document a reference to
 * that document's named schema (an $id nested in an answer is hoisted to a
 * component, a top-level one is not), with what the answer is.
 */
export function shared<T extends TSchema> (schema: T, description: string): TUnsafe<Static<T>> {
  return Type.Unsafe<Static<T>>({ allOf: [schema], description })
}

/** A resource as a caller sees it: the endpoint only for operators and the resource's own provider. */
export const VisibleResource = Type.Object({
  ...Resource.properties,
  endpoint: Type.Optional(Type.Object(Resource.properties.endpoint.properties, {
    additionalProperties: false,
    description: 'only for operators and the resource\'s own provider'
  }))
}, { additionalProperties: false, $id: 'VisibleResource' })

export const CatalogAnswer = Type.Object({ resources: Type.Array(VisibleResource) }, { additionalProperties: false, description: 'the matching resources of the compiled catalog' })

export const LintAnswer = Type.Object({
  findings: Type.Array(Type.Object({
    code: Type.String({ description: 'the MODEL.md rule, e.g. duplicate-item' }),
    path: Type.String({ description: 'JSON Pointer into the catalog' }),
    message: Type.String(),
    resources: Type.Array(ResourceId, { description: 'the resources the finding is about' })
  }, { additionalProperties: false }))
}, { additionalProperties: false, description: 'the catalog\'s problems (none: an empty list)' })
describes<Same<Static<typeof LintAnswer>['findings'][number], LintFinding>>()

export const GrantsAnswer = Type.Object({
  consumer: MemberId,
  plan: Type.Union([PlanRef, Type.Null()], { description: 'the active plan; null when none is active' }),
  grants: Type.Array(Grant, { description: 'validFrom and validUntil as in force: the plan\'s when the grant has none' })
}, { additionalProperties: false, description: 'the caller\'s grants in the active plan' })

export const MemberList = Type.Object({ members: Type.Array(Member) }, { additionalProperties: false, description: 'every registered member' })

/** GET /v1/directories/{agencyId}: the directory, endpoints only for operators and that agency. */
export const DirectoryAnswer = Type.Object({
  ...Directory.properties,
  resources: Type.Array(VisibleResource)
}, { additionalProperties: false, description: 'the agency\'s current directory (endpoints only for operators and that agency)' })

/** PlanState, shared by name in the OpenAPI document (core's composite has no $id). */
export const PlanAnswer = Type.Composite([PlanState], { additionalProperties: false, $id: 'PlanState' })
export const PlanList = Type.Object({ plans: Type.Array(PlanAnswer) }, { additionalProperties: false, description: 'every version of every plan, with status and approvals' })
export const DigestAnswer = Type.Object({ digest: Digest }, { additionalProperties: false, description: 'the sha256 of the plan version\'s canonical JSON: what an approver signs' })

export const AuditPageAnswer = Type.Object({
  records: Type.Array(AuditRecord),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'the cursor of the next page; null when there is nothing more' })
}, { additionalProperties: false, description: 'a page of matching records, oldest first' })
describes<Same<Static<typeof AuditPageAnswer>, AuditPage>>()

export const AuditVerifyAnswer = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer({ description: 'records checked' }),
  firstBad: Type.Optional(Type.Object({ gatewayId: MemberId, seq: Type.Integer(), reason: Type.String() }, {
    additionalProperties: false,
    description: 'the first record that breaks its chain (absent when ok)'
  })),
  checkpoints: Type.Optional(Type.Integer({ description: 'checkpoint signatures checked (absent when none were)' })),
  lastCheckpoint: Type.Optional(Type.Record(Type.String(), Type.Integer(), {
    description: 'per gateway, the seq of its last checked checkpoint: nothing before it can have been rewritten'
  }))
}, { additionalProperties: false, description: 'whether every chain is intact, and the first record that is not' })
describes<Same<Static<typeof AuditVerifyAnswer>, AuditVerifyResult>>()

const Percentile = Type.Union([Type.Number(), Type.Null()])
export const AuditStatsAnswer = Type.Object({
  by: Type.Union(AUDIT_STATS_BY.map(by => Type.Literal(by))),
  from: Type.Union([Type.String(), Type.Null()]),
  to: Type.Union([Type.String(), Type.Null()]),
  total: Type.Integer({ description: 'exchange records counted' }),
  groups: Type.Array(Type.Object({
    key: Type.Union([Type.String(), Type.Null()], { description: 'null for records without one (a refused unknown resource)' }),
    count: Type.Integer(),
    allowed: Type.Integer(),
    denied: Type.Integer(),
    error: Type.Integer(),
    latencyMs: Type.Object({ p50: Percentile, p95: Percentile, p99: Percentile }, { additionalProperties: false, description: 'nearest-rank percentiles; null for an empty group' })
  }, { additionalProperties: false }), { description: 'by count, largest first (then by key)' })
}, { additionalProperties: false, description: 'exchange records counted per group, with latency percentiles' })
describes<Same<Static<typeof AuditStatsAnswer>, AuditStats>>()

/** GET /public/disclosures answers every published catalog. */
export const DisclosureList = Type.Object({ disclosures: Type.Array(DisclosureCatalog) }, { additionalProperties: false, description: 'every published disclosure catalog' })

/**
 * A 200 answered in another media type than JSON (OpenAPI `content`), or in
 * several. @fastify/swagger names a schema with an $id as a component only where
 * it sits inside a route's schema, not under `content`: a core document here is
 * a reference to that component, which another answer's schema names (the
 * OpenAPI test checks that every reference resolves).
 */
export function answerIn (description: string, content: Record<string, TSchema>): { description: string, content: Record<string, { schema: TSchema }> } {
  const out: Record<string, { schema: TSchema }> = {}
  for (const [type, schema] of Object.entries(content)) out[type] = { schema: typeof schema.$id === 'string' ? Type.Unsafe({ $ref: '#/components/schemas/' + schema.$id }) : schema }
  return { description, content: out }
}

/** GET /v1/audit/export: NDJSON, which OpenAPI 3.0 cannot describe line by line; the schema is a line's. */
export const AuditExportAnswer = answerIn('every matching record, oldest first: NDJSON, each line one audit record (the schema is a line\'s)', {
  'application/x-ndjson': AuditRecord
})

export const HtmlPage = Type.String({ description: 'a readable HTML page (UTF-8)' })
