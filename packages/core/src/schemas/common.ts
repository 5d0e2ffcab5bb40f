// Building blocks shared by the document schemas: identifiers, dates, limits.
import { Type } from '@sinclair/typebox'
import {
  MEMBER_ID_PATTERN, MEMBER_ID_MAX, RESOURCE_ID_PATTERN, RESOURCE_ID_MAX,
  RESOURCE_NAME_MAX, FIELD_PATTERN, FIELD_MAX, ENVELOPE_ID_PATTERN
} from '../ids.js'
import { DIGEST_PATTERN } from '../canonical.js'

/** Size limits, so no document can make a validator or an index blow up. */
export const LIMITS = {
  text: 256,
  longText: 4000,
  url: 2048,
  keysPerMember: 16,
  resourcesPerDirectory: 2000,
  itemsPerResource: 500,
  queryParams: 50,
  grantsPerPlan: 200_000,
  fieldsPerGrant: 500,
  purposesPerGrant: 100,
  entriesPerDisclosure: 10_000,
  membersPerFile: 100_000
} as const

export const MemberId = Type.String({ pattern: MEMBER_ID_PATTERN, maxLength: MEMBER_ID_MAX, description: 'dotted lowercase member id, e.g. tj.psb' })
export const ResourceId = Type.String({ pattern: RESOURCE_ID_PATTERN, maxLength: RESOURCE_ID_MAX, description: '<provider member id>:<name>' })
export const ResourceName = Type.String({ pattern: '^[a-z][a-z0-9-]*$', maxLength: RESOURCE_NAME_MAX })
export const FieldName = Type.String({ pattern: FIELD_PATTERN, maxLength: FIELD_MAX })
export const EnvelopeId = Type.String({ pattern: ENVELOPE_ID_PATTERN, maxLength: 36, description: 'UUID v4 or v7, client-chosen' })
export const Digest = Type.String({ pattern: DIGEST_PATTERN, description: 'sha256:<64 hex>' })
export const Text = Type.String({ minLength: 1, maxLength: LIMITS.text })
export const LongText = Type.String({ maxLength: LIMITS.longText })
export const Token = Type.String({ pattern: '^[a-z][a-z0-9-]*$', maxLength: 128, description: 'lowercase kebab-case token' })
export const CalendarDate = Type.String({ format: 'date', maxLength: 10, description: 'YYYY-MM-DD' })
export const Instant = Type.String({ format: 'date-time', maxLength: 40, description: 'ISO 8601 date-time' })
export const Url = Type.String({ format: 'uri', maxLength: LIMITS.url })
