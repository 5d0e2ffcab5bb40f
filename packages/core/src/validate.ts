// Schema validation with Ajv, configured exactly as PROTOCOL.md says
// (nothing stripped, coerced or defaulted; all errors), compiled once per schema.
// Ajv's errors become Problems with stable codes.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { TSchema, Static } from '@sinclair/typebox'
import type { Problem, Result } from './problems.js'
import { pointer } from './problems.js'

// ajv-formats is CommonJS (`module.exports = formatsPlugin`, plus `exports.default`).
type FormatsPlugin = (ajv: Ajv, formats: string[]) => Ajv
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as unknown as FormatsPlugin

/** The Ajv options of PROTOCOL.md "Requests and validation"; the gateway uses the same. */
export const AJV_OPTIONS = {
  removeAdditional: false,
  coerceTypes: false,
  useDefaults: false,
  allErrors: true,
  strict: false
} as const

export function createAjv (): Ajv {
  const ajv = new Ajv(AJV_OPTIONS)
  addFormats(ajv, ['date', 'date-time', 'uri', 'email', 'uuid'])
  return ajv
}

const shared = createAjv()
const compiled = new WeakMap<object, ValidateFunction>()

function compile (schema: TSchema): ValidateFunction {
  let fn = compiled.get(schema)
  if (fn === undefined) {
    // A schema with an $id may be known already as part of another (Member inside MemberList):
    // compiling it again would throw "schema with key or id already exists".
    const id = (schema as { $id?: unknown }).$id
    fn = (typeof id === 'string' ? shared.getSchema(id) : undefined) ?? shared.compile(schema)
    compiled.set(schema, fn)
  }
  return fn
}

const KEYWORD_CODES: Record<string, string> = {
  required: 'required',
  additionalProperties: 'unknown-property',
  type: 'type',
  pattern: 'pattern',
  format: 'format',
  maxLength: 'too-long',
  minLength: 'too-short',
  maxItems: 'too-many',
  minItems: 'too-few',
  maximum: 'too-large',
  minimum: 'too-small',
  exclusiveMinimum: 'too-small',
  exclusiveMaximum: 'too-large',
  enum: 'enum',
  const: 'enum',
  uniqueItems: 'duplicate',
  maxProperties: 'too-many',
  anyOf: 'invalid',
  oneOf: 'invalid',
  if: 'invalid'
}

const LITERAL_BRANCH = /^(.*\/anyOf)\/\d+\/const$/

/**
 * TypeBox compiles a union of literals to `anyOf` of `const`, which Ajv reports
 * as one "must be equal to constant" per branch plus "must match a schema in
 * anyOf". Collects, per failing union of literals only (no other error under
 * that `anyOf`), the values it allows, so one `enum` problem can list them.
 */
function literalUnions (errors: readonly ErrorObject[]): Map<string, unknown[]> {
  const values = new Map<string, unknown[]>()
  const mixed = new Set<string>()
  for (const e of errors) {
    const branch = e.keyword === 'const' ? LITERAL_BRANCH.exec(e.schemaPath) : null
    if (branch !== null) {
      const key = e.instancePath + '\u0000' + String(branch[1])
      const list = values.get(key)
      if (list === undefined) values.set(key, [(e.params as { allowedValue?: unknown }).allowedValue])
      else list.push((e.params as { allowedValue?: unknown }).allowedValue)
      continue
    }
    for (let at = e.schemaPath.indexOf('/anyOf/'); at >= 0; at = e.schemaPath.indexOf('/anyOf/', at + 1)) {
      mixed.add(e.schemaPath.slice(0, at + 6))
    }
  }
  for (const key of values.keys()) {
    if (mixed.has(key.slice(key.indexOf('\u0000') + 1))) values.delete(key)
  }
  return values
}

/** Ajv errors as Problems, one per distinct (path, code). */
export function problemsFromAjv (errors: readonly ErrorObject[] | null | undefined): Problem[] {
  const out: Problem[] = []
  const seen = new Set<string>()
  const unions = literalUnions(errors ?? [])
  for (const e of errors ?? []) {
    let path = e.instancePath
    let message = e.message ?? 'is invalid'
    let keyword = e.keyword
    const params = e.params as Record<string, unknown>
    if (unions.size > 0 && (keyword === 'const' || keyword === 'anyOf')) {
      const branch = keyword === 'const' ? LITERAL_BRANCH.exec(e.schemaPath) : null
      const allowed = unions.get(path + '\u0000' + (branch === null ? e.schemaPath : String(branch[1])))
      if (allowed !== undefined) {
        if (keyword === 'const') continue
        keyword = 'enum'
        message = 'must be one of ' + allowed.map(v => JSON.stringify(v)).join(', ')
      }
    }
    if (keyword === 'required') {
      path = pointer(path, String(params.missingProperty))
      message = 'is required'
    } else if (keyword === 'additionalProperties') {
      path = pointer(path, String(params.additionalProperty))
      message = 'is not a known property; remove it or check its spelling'
    } else if (e.keyword === 'enum') {
      message = 'must be one of ' + (params.allowedValues as unknown[]).map(v => JSON.stringify(v)).join(', ')
    } else if (keyword === 'const') {
      message = 'must be ' + JSON.stringify(params.allowedValue)
    }
    const code = KEYWORD_CODES[keyword] ?? keyword
    const key = code + '\u0000' + path
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ code, path, message })
  }
  return out
}

/** Validates a value against a schema; the value is returned untouched when valid. */
export function validateSchema<S extends TSchema> (schema: S, value: unknown): Result<Static<S>> {
  const fn = compile(schema)
  if (fn(value)) return { ok: true, value: value as Static<S> }
  return { ok: false, problems: problemsFromAjv(fn.errors) }
}

/** Parses JSON text, answering a `json` problem instead of throwing. */
export function parseJson (text: string): Result<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch (err) {
    return { ok: false, problems: [{ code: 'json', path: '', message: 'is not valid JSON: ' + (err as Error).message }] }
  }
}
