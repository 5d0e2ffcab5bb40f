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
    fn = shared.compile(schema)
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

/** Ajv errors as Problems, one per distinct (path, code). */
export function problemsFromAjv (errors: readonly ErrorObject[] | null | undefined): Problem[] {
  const out: Problem[] = []
  const seen = new Set<string>()
  for (const e of errors ?? []) {
    let path = e.instancePath
    let message = e.message ?? 'is invalid'
    const params = e.params as Record<string, unknown>
    if (e.keyword === 'required') {
      path = pointer(path, String(params.missingProperty))
      message = 'is required'
    } else if (e.keyword === 'additionalProperties') {
      path = pointer(path, String(params.additionalProperty))
      message = 'is not a known property; remove it or check its spelling'
    } else if (e.keyword === 'enum') {
      message = 'must be one of ' + (params.allowedValues as unknown[]).map(v => JSON.stringify(v)).join(', ')
    }
    const code = KEYWORD_CODES[e.keyword] ?? e.keyword
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
