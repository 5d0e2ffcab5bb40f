// Identifiers of PROTOCOL.md ("Identifiers"): one regular expression each, and
// cheap validators the schemas, the gateway's URL params and authorize() share.

export const MEMBER_ID_PATTERN = '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)*$'
export const MEMBER_ID_MAX = 128
export const RESOURCE_NAME_PATTERN = '^[a-z][a-z0-9-]*$'
export const RESOURCE_NAME_MAX = 64
/**
 * `<member id>:<name>`. A schema's maxLength sees only the whole id, so the
 * lookahead bounds the member id (≤ 128) and the quantifier the name (≤ 64).
 */
export const RESOURCE_ID_PATTERN = '^(?=[^:]{1,128}:)[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)*:[a-z][a-z0-9-]{0,63}$'
/** the longest legal resource id */
export const RESOURCE_ID_MAX = MEMBER_ID_MAX + 1 + RESOURCE_NAME_MAX
export const FIELD_PATTERN = '^[A-Za-z][A-Za-z0-9_]*$'
export const FIELD_MAX = 64
/** UUID of version 4 or 7, any case. */
export const ENVELOPE_ID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[47][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$'

const memberRe = new RegExp(MEMBER_ID_PATTERN)
const resourceNameRe = new RegExp(RESOURCE_NAME_PATTERN)
const fieldRe = new RegExp(FIELD_PATTERN)
const envelopeRe = new RegExp(ENVELOPE_ID_PATTERN)

export function isMemberId (value: unknown): value is string {
  return typeof value === 'string' && value.length <= MEMBER_ID_MAX && memberRe.test(value)
}

export function isFieldName (value: unknown): value is string {
  return typeof value === 'string' && value.length <= FIELD_MAX && fieldRe.test(value)
}

export function isEnvelopeId (value: unknown): value is string {
  return typeof value === 'string' && value.length === 36 && envelopeRe.test(value)
}

/**
 * The one spelling of an envelope id that replay guards key on: UUIDs are
 * case-insensitive, so `0193A1C2-…` and `0193a1c2-…` are one envelope.
 */
export function envelopeKey (id: string): string {
  return id.toLowerCase()
}

export interface ResourceIdParts {
  provider: string
  name: string
}

/** Splits a resource id into provider and name, or returns null when it is not legal. */
export function parseResourceId (value: unknown): ResourceIdParts | null {
  if (typeof value !== 'string' || value.length > RESOURCE_ID_MAX) return null
  const colon = value.indexOf(':')
  if (colon < 1) return null
  const provider = value.slice(0, colon)
  const name = value.slice(colon + 1)
  if (!isMemberId(provider) || name.length > RESOURCE_NAME_MAX || !resourceNameRe.test(name)) return null
  return { provider, name }
}

export function isResourceId (value: unknown): value is string {
  return parseResourceId(value) !== null
}
