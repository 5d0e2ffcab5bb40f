// Validation of the MODEL.md documents: the schema first, then (only when it
// passed) the rules beyond it; every problem at once. Nothing here throws:
// malformed JSON, wrong types and hostile values all come back as problems.
// Schema problems answer 400 at the gateway, rule problems 422 (isSchemaFailure).
import type { TSchema, Static } from '@sinclair/typebox'
import type { Problem, Result } from './problems.js'
import { validateSchema, parseJson } from './validate.js'
import { Member, MemberList } from './schemas/member.js'
import { Directory } from './schemas/directory.js'
import { DisclosureCatalog } from './schemas/disclosure.js'
import { Plan } from './schemas/plan.js'
import { isRuleCode } from './rules/codes.js'
import { GatewayConfig } from './schemas/config.js'
import { configProblems } from './rules/config.js'
import { memberRules, memberListRules } from './rules/member.js'
import { directoryRules, type DirectoryOptions } from './rules/directory.js'
import { disclosureRules } from './rules/disclosure.js'
import { planRules, type PlanContext } from './rules/plan.js'

export type { DirectoryOptions } from './rules/directory.js'
export type { PlanContext } from './rules/plan.js'
export { RULE_CODES, isRuleCode, type RuleCode } from './rules/codes.js'

export type DocumentKind = 'member' | 'members' | 'directory' | 'plan' | 'disclosure'

/** True when the problems came from the schema stage (or JSON parsing): a 400, not a 422. */
export function isSchemaFailure (problems: readonly Problem[]): boolean {
  return problems.some(p => !isRuleCode(p.code))
}

function validate<S extends TSchema> (schema: S, value: unknown, rules: (doc: Static<S>) => Problem[]): Result<Static<S>> {
  try {
    const checked = validateSchema(schema, value)
    if (!checked.ok) return checked
    const problems = rules(checked.value)
    return problems.length === 0 ? checked : { ok: false, problems }
  } catch (err) {
    // Only a value that is not JSON data (a throwing getter, a proxy) gets here.
    return { ok: false, problems: [{ code: 'invalid', path: '', message: 'could not be read as a JSON document: ' + String((err as Error)?.message ?? err) }] }
  }
}

export function validateMember (value: unknown): Result<Member> {
  return validate(Member, value, member => memberRules(member))
}

export function validateMemberList (value: unknown): Result<Member[]> {
  return validate(MemberList, value, memberListRules)
}

export function validateDirectory (value: unknown, options: DirectoryOptions = {}): Result<Directory> {
  return validate(Directory, value, directory => directoryRules(directory, options))
}

/**
 * A gateway config value (after env overrides), every problem at once: the
 * schema's, its store against its own kind, unreadable `upstream.allowHosts`
 * entries. The gateway checks it at start and `govex lint` with the same call.
 */
export function validateConfig (value: unknown): Result<GatewayConfig> {
  const problems = configProblems(value)
  return problems.length === 0 ? { ok: true, value: value as GatewayConfig } : { ok: false, problems }
}

export function validateDisclosure (value: unknown): Result<DisclosureCatalog> {
  return validate(DisclosureCatalog, value, disclosureRules)
}

/**
 * A plan against the catalog and the member registry. The gateway always passes
 * both; `null` skips the rules that need it (a command-line lint of a lone file).
 */
export function validatePlan (value: unknown, context: PlanContext): Result<Plan> {
  return validate(Plan, value, plan => planRules(plan, context))
}

/**
 * The plan rules alone, for a value the Plan schema accepted already: the
 * gateway's route validates the body against that same schema, with the same
 * Ajv options, before its handler runs, and a 100,000-grant plan takes
 * hundreds of milliseconds to check again.
 */
export function checkPlanRules (plan: Plan, context: PlanContext): Result<Plan> {
  const problems = planRules(plan, context)
  return problems.length === 0 ? { ok: true, value: plan } : { ok: false, problems }
}

/** JSON text of a document of `kind`, parsed and validated; malformed JSON is a `json` problem. */
export function parseDocument (kind: 'member', text: string): Result<Member>
export function parseDocument (kind: 'members', text: string): Result<Member[]>
export function parseDocument (kind: 'directory', text: string, context?: DirectoryOptions): Result<Directory>
export function parseDocument (kind: 'disclosure', text: string): Result<DisclosureCatalog>
export function parseDocument (kind: 'plan', text: string, context: PlanContext): Result<Plan>
export function parseDocument (kind: DocumentKind, text: string, context?: DirectoryOptions | PlanContext): Result<Member | Member[] | Directory | DisclosureCatalog | Plan>
export function parseDocument (kind: DocumentKind, text: string, context?: DirectoryOptions | PlanContext): Result<Member | Member[] | Directory | DisclosureCatalog | Plan> {
  const parsed = parseJson(text)
  if (!parsed.ok) return parsed
  switch (kind) {
    case 'member': return validateMember(parsed.value)
    case 'members': return validateMemberList(parsed.value)
    case 'directory': return validateDirectory(parsed.value, context as DirectoryOptions | undefined)
    case 'disclosure': return validateDisclosure(parsed.value)
    case 'plan': {
      const planContext = context as Partial<PlanContext> | undefined
      return validatePlan(parsed.value, { catalog: planContext?.catalog ?? null, members: planContext?.members ?? null })
    }
    default: return { ok: false, problems: [{ code: 'invalid', path: '', message: `unknown document kind "${String(kind)}"; use member, members, directory, plan or disclosure` }] }
  }
}
