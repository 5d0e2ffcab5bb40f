// The problem codes of MODEL.md rules (checked after the schema passed). Stable:
// clients and docs match on them. Anything else in a problem list is a schema
// problem, which is how isSchemaFailure() tells 400 from 422.

export const RULE_CODES = [
  // directory
  'resource-not-prefixed',
  'duplicate-resource',
  'duplicate-item',
  'duplicate-query-param',
  'conditions-required',
  'endpoint-scheme',
  'endpoint-host-not-allowed',
  // plan
  'invalid-validity',
  'grant-outside-plan-validity',
  'unknown-resource',
  'resource-not-shareable',
  'unknown-field',
  'consumer-not-agency',
  'consumer-is-provider',
  'duplicate-grant-id',
  'duplicate-grant',
  // member, member list
  'duplicate-kid',
  'duplicate-member',
  // disclosure
  'url-scheme',
  // where a document is submitted: the id in its URL, the agency it belongs to
  'id-mismatch',
  'unknown-agency'
] as const

export type RuleCode = typeof RULE_CODES[number]

const RULE_CODE_SET: ReadonlySet<string> = new Set(RULE_CODES)

export function isRuleCode (code: string): code is RuleCode {
  return RULE_CODE_SET.has(code)
}
