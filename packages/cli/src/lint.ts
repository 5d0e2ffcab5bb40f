// Document linting behind `govex lint`: tell what each file is, validate it with
// core, and check plans against the catalog compiled from the directories given.
import { dirname, resolve } from 'node:path'
import {
  compileCatalog, lintCatalog, parseJson, validateDirectory, validateDisclosure, validateMember,
  validateConfig, validateMemberList, validatePlan
} from '@govex/core'
import type { Directory, Member, Problem } from '@govex/core'
import { readText } from './files.js'

export const DOCUMENT_KINDS = ['directory', 'plan', 'disclosure', 'member', 'members', 'config'] as const
export type DocumentKind = typeof DOCUMENT_KINDS[number]

export interface LintInput {
  /** as the user wrote it (for messages) */
  name: string
  /** absolute */
  path: string
  /** report its problems (false: only used to build the catalog) */
  report: boolean
  kind?: DocumentKind | undefined
}

export interface FileReport {
  file: string
  kind: DocumentKind | 'unknown'
  problems: Problem[]
}

export interface CatalogFinding {
  code: string
  message: string
  resources: string[]
}

export interface LintReport {
  ok: boolean
  files: FileReport[]
  /** catalog-wide findings (Art. 9 duplicates, ...): reported, never fixed; they fail the run like any problem */
  catalog: CatalogFinding[]
  /** rules that could not run for want of context, each with what to pass */
  skipped: string[]
}


/** What a parsed JSON value looks like, by the properties MODEL.md documents carry. */
export function detectKind (value: unknown): DocumentKind | undefined {
  if (Array.isArray(value)) return 'members'
  if (typeof value !== 'object' || value === null) return undefined
  const has = (key: string): boolean => key in value
  if (has('grants')) return 'plan'
  if (has('agency') && has('resources')) return 'directory'
  if (has('agency') && has('entries')) return 'disclosure'
  if (has('gatewayId') || (has('store') && has('zone'))) return 'config'
  if (has('roles') || (has('id') && has('keys'))) return 'member'
  return undefined
}

const UNKNOWN_MESSAGE = 'cannot tell what document this is: expected a directory (agency, resources), a plan (grants), ' +
  'a disclosure catalog (agency, entries), a member (id, roles, keys), a member list (array) or a gateway config (gatewayId); pass --type to say'

interface Parsed { input: LintInput, kind: DocumentKind | 'unknown', value: unknown, problems: Problem[] }

/** The bootstrap files a gateway config names, resolved against its folder. */
export function bootstrapInputs (configPath: string, value: unknown): LintInput[] {
  if (typeof value !== 'object' || value === null) return []
  const bootstrap = (value as { bootstrap?: unknown }).bootstrap
  if (typeof bootstrap !== 'object' || bootstrap === null) return []
  const base = dirname(configPath)
  const inputs: LintInput[] = []
  const { members, directories, disclosures } = bootstrap as Record<string, unknown>
  const add = (p: unknown, kind: DocumentKind): void => {
    if (typeof p === 'string') inputs.push({ name: p, path: resolve(base, p), report: false, kind })
  }
  add(members, 'members')
  if (Array.isArray(directories)) for (const p of directories) add(p, 'directory')
  if (Array.isArray(disclosures)) for (const p of disclosures) add(p, 'disclosure')
  return inputs
}

/** `upstream.allowHosts` of a config value, if set. */
export function allowHostsOf (config: unknown): readonly string[] | undefined {
  if (typeof config !== 'object' || config === null) return undefined
  const upstream = (config as { upstream?: { allowHosts?: unknown } }).upstream
  const hosts = upstream?.allowHosts
  return Array.isArray(hosts) && hosts.every(h => typeof h === 'string') ? hosts as string[] : undefined
}

async function parse (input: LintInput): Promise<Parsed> {
  const text = await readText(input.path, 'document')
  const json = parseJson(text)
  if (!json.ok) return { input, kind: input.kind ?? 'unknown', value: undefined, problems: json.problems }
  const kind = input.kind ?? detectKind(json.value)
  if (kind === undefined) return { input, kind: 'unknown', value: json.value, problems: [{ code: 'unknown-document', path: '', message: UNKNOWN_MESSAGE }] }
  return { input, kind, value: json.value, problems: [] }
}

/**
 * Lints every input. Directories and members among them (and in `context`)
 * form the catalog plans are checked against; without them a plan gets the
 * rules that need no context, and the report says which rules were skipped.
 */
export async function lintFiles (inputs: readonly LintInput[], options: { allowHosts?: readonly string[] | undefined } = {}): Promise<LintReport> {
  // the same file given twice (positional and in a config) is read once
  const unique = new Map<string, LintInput>()
  for (const input of inputs) {
    const seen = unique.get(input.path)
    if (seen === undefined) unique.set(input.path, input)
    else if (input.report) seen.report = true
  }
  const parsed = await Promise.all([...unique.values()].map(parse))

  const directories = new Map<string, Directory>()
  const members = new Map<string, Member>()
  let sawDirectory = false
  let sawMembers = false
  for (const doc of parsed) {
    if (doc.problems.length > 0) continue
    switch (doc.kind) {
      case 'directory': {
        sawDirectory = true
        const r = validateDirectory(doc.value, options.allowHosts === undefined ? {} : { allowHosts: options.allowHosts })
        if (r.ok) directories.set(r.value.agency, r.value)
        else doc.problems = r.problems
        break
      }
      case 'members': {
        sawMembers = true
        const r = validateMemberList(doc.value)
        if (r.ok) for (const m of r.value) members.set(m.id, m)
        else doc.problems = r.problems
        break
      }
      case 'member': {
        sawMembers = true
        const r = validateMember(doc.value)
        if (r.ok) members.set(r.value.id, r.value)
        else doc.problems = r.problems
        break
      }
      case 'disclosure': {
        const r = validateDisclosure(doc.value)
        if (!r.ok) doc.problems = r.problems
        break
      }
      case 'config': {
        // the check the gateway makes at start
        const r = validateConfig(doc.value)
        if (!r.ok) doc.problems = r.problems
        break
      }
      default:
        break
    }
  }

  const plans = parsed.filter(d => d.kind === 'plan' && d.problems.length === 0)
  const catalog = compileCatalog([...directories.values()])
  const skipped: string[] = []
  if (plans.length > 0) {
    // a plan alone still gets its schema and the rules that need no catalog or registry
    if (!sawDirectory) skipped.push('plans were not checked against the catalog (resources, fields, sharing): pass --directories <files…> or --config')
    if (!sawMembers) skipped.push('plan consumers were not checked against the member registry: pass --members <file> or --config')
    for (const doc of plans) {
      const r = validatePlan(doc.value, { catalog: sawDirectory ? catalog : null, members: sawMembers ? members : null })
      if (!r.ok) doc.problems = r.problems
    }
  }

  const findings: CatalogFinding[] = sawDirectory
    ? lintCatalog(catalog).map(f => ({ code: f.code, message: f.message, resources: [...f.resources] }))
    : []
  const files: FileReport[] = parsed
    .filter(d => d.input.report || d.problems.length > 0)
    .map(d => ({ file: d.input.name, kind: d.kind, problems: d.problems }))
  // catalog findings (Art. 9 duplicates, ...) are problems too: reported, never fixed, and they fail the run
  return { ok: findings.length === 0 && files.every(f => f.problems.length === 0), files, catalog: findings, skipped }
}
