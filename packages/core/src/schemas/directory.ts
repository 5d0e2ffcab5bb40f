// Directory (MODEL.md "Directory", Art. 11): one agency's information resources.
import { Type, type Static } from '@sinclair/typebox'
import { MemberId, ResourceId, FieldName, Text, LongText, CalendarDate, Url, LIMITS } from './common.js'

export const CLASSIFICATION_PATTERN = '^(basic:(population|legal-entity|geospatial|macro-economy)|thematic:[a-z][a-z0-9-]*|departmental)$'
export const SECURITY_LEVELS = ['public', 'internal', 'confidential'] as const
export const SHARING_TYPES = ['unconditional', 'conditional', 'none'] as const
export const OPENNESS = ['open', 'conditional', 'closed'] as const
export const ITEM_TYPES = ['string', 'number', 'integer', 'boolean', 'date', 'date-time', 'object', 'array'] as const

const literals = <T extends readonly string[]>(values: T) => Type.Union(values.map(v => Type.Literal(v)))

export const SecurityLevel = literals(SECURITY_LEVELS)
export type SecurityLevel = Static<typeof SecurityLevel>

export const DataItem = Type.Object({
  name: FieldName,
  type: literals(ITEM_TYPES),
  description: Type.Optional(LongText),
  sensitive: Type.Optional(Type.Boolean())
}, { additionalProperties: false })
export type DataItem = Static<typeof DataItem>

export const QueryParam = Type.Object({
  name: FieldName,
  type: literals(ITEM_TYPES),
  required: Type.Optional(Type.Boolean())
}, { additionalProperties: false })
export type QueryParam = Static<typeof QueryParam>

export const Resource = Type.Object({
  id: ResourceId,
  name: Text,
  description: LongText,
  classification: Type.String({ pattern: CLASSIFICATION_PATTERN, maxLength: 128 }),
  securityLevel: SecurityLevel,
  sharing: Type.Object({
    type: literals(SHARING_TYPES),
    conditions: Type.Optional(LongText)
  }, { additionalProperties: false }),
  openness: Type.Optional(literals(OPENNESS)),
  updateCycle: Type.Optional(Type.String({ maxLength: 64 })),
  format: Type.Optional(Type.String({ maxLength: 32 })),
  items: Type.Array(DataItem, { minItems: 1, maxItems: LIMITS.itemsPerResource }),
  query: Type.Optional(Type.Array(QueryParam, { maxItems: LIMITS.queryParams })),
  endpoint: Type.Object({
    url: Url,
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 }))
  }, { additionalProperties: false }),
  releasedAt: Type.Optional(CalendarDate)
}, { additionalProperties: false })
export type Resource = Static<typeof Resource>

export const Directory = Type.Object({
  agency: MemberId,
  version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  resources: Type.Array(Resource, { maxItems: LIMITS.resourcesPerDirectory })
}, { additionalProperties: false, $id: 'Directory' })
export type Directory = Static<typeof Directory>
