// The gateway's errors: one @fastify/error constructor per PROTOCOL.md code,
// built from core's ERROR_CODES table so the two cannot drift, and the one
// mapping from any thrown error to the wire's error body
// `{ statusCode, code, error, message, requestId, problems? }`.
import { STATUS_CODES } from 'node:http'
import createError from '@fastify/error'
import type { FastifyErrorConstructor } from '@fastify/error'
import { ERROR_CODES, isGovexError, problemsFromAjv } from '@govex/core'
import type { ErrorCode, Problem } from '@govex/core'

type CodedError = Error & { code: ErrorCode, statusCode: number, problems?: Problem[] | undefined }
type Constructor = FastifyErrorConstructor<{ code: ErrorCode, statusCode: number }, [string]>

const constructors = new Map<ErrorCode, Constructor>()
for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
  constructors.set(code, createError(code, '%s', ERROR_CODES[code]) as unknown as Constructor)
}

/** The @fastify/error constructor of a code (for `instanceof`-free matching, compare `.code`). */
export function errorConstructor (code: ErrorCode): Constructor {
  return constructors.get(code) as Constructor
}

/** A coded error to throw from a route or hook; `problems` for 400 and 422. */
export function httpError (code: ErrorCode, message: string, problems?: Problem[]): CodedError {
  const err = new (errorConstructor(code))(message) as CodedError
  if (problems !== undefined) err.problems = problems
  return err
}

export interface ErrorBody {
  statusCode: number
  code: ErrorCode
  error: string
  message: string
  requestId: string
  problems?: Problem[]
}

/** Fastify's own errors that a caller can cause, with the govex code they mean. */
const FASTIFY_CODES: ReadonlyMap<string, { code: ErrorCode, message?: string }> = new Map([
  ['FST_ERR_CTP_INVALID_MEDIA_TYPE', { code: 'GOVEX_ERR_UNSUPPORTED_MEDIA_TYPE' as const, message: 'the body must be JSON: send content-type: application/json' }],
  ['FST_ERR_CTP_INVALID_TYPE', { code: 'GOVEX_ERR_UNSUPPORTED_MEDIA_TYPE' as const, message: 'the body must be JSON: send content-type: application/json' }],
  ['FST_ERR_CTP_BODY_TOO_LARGE', { code: 'GOVEX_ERR_TOO_LARGE' as const }],
  ['FST_ERR_CTP_EMPTY_JSON_BODY', { code: 'GOVEX_ERR_BAD_REQUEST' as const, message: 'the body is empty: send a JSON document, or no content-type header when there is no body' }],
  ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', { code: 'GOVEX_ERR_BAD_REQUEST' as const, message: 'content-length does not match the body sent' }],
  ['FST_ERR_BAD_URL', { code: 'GOVEX_ERR_BAD_REQUEST' as const, message: 'the URL is malformed; percent-encode it correctly' }],
  ['FST_ERR_ASYNC_CONSTRAINT', { code: 'GOVEX_ERR_BAD_REQUEST' as const }]
])

export interface MappedError {
  status: number
  code: ErrorCode
  message: string
  problems: Problem[] | undefined
  /** true when the error is not one a caller can cause: log it as a fault */
  internal: boolean
  /**
   * For the log only: what the caller is not told. A store's own words when
   * `message` replaced them (they may name Redis users, commands, keys, hosts
   * or paths, and ACL advice meant for the operator), or an error's `detail`
   * (why a provider's endpoint URL was refused).
   */
  detail?: string
}

/**
 * The answer to a 503 GOVEX_ERR_UNAVAILABLE that a store threw (Redis or the
 * data folder down, or refusing this gateway); the gateway's own 503s ("the
 * gateway is stopping", "not loaded yet", "reloading") keep their words.
 */
export const STORES_UNAVAILABLE_MESSAGE = 'the gateway\'s stores (shared state or data folder) do not answer or refuse this gateway; retry shortly (the operator should see the gateway log)'

/** Whether `err` was made by one of the gateway's own constructors (httpError), not thrown by a store or core. */
function isOwn (err: CodedError): boolean {
  return err instanceof errorConstructor(err.code)
}

/** Maps anything thrown while serving a request to its PROTOCOL.md code. */
export function mapError (err: unknown, limits: { bodyBytes: number }): MappedError {
  if (isGovexError(err)) {
    const coded = err as CodedError
    const problems = coded.problems !== undefined && coded.problems.length > 0 ? coded.problems : undefined
    // A store's words are for the operator: the caller learns only that the stores failed.
    if (coded.code === 'GOVEX_ERR_UNAVAILABLE' && !isOwn(coded)) {
      return { status: 503, code: coded.code, message: STORES_UNAVAILABLE_MESSAGE, problems: undefined, internal: false, detail: coded.message }
    }
    const detail = (coded as { detail?: unknown }).detail
    return { status: ERROR_CODES[coded.code], code: coded.code, message: coded.message, problems, internal: false, ...(typeof detail === 'string' ? { detail } : {}) }
  }
  const e = (err ?? {}) as { code?: unknown, statusCode?: unknown, message?: unknown, validation?: unknown, validationContext?: unknown }
  if (Array.isArray(e.validation)) {
    const problems = problemsFromAjv(e.validation)
    const where = typeof e.validationContext === 'string' ? e.validationContext : 'request'
    const place = where === 'querystring' ? 'query string' : where === 'params' ? 'URL' : where
    return { status: 400, code: 'GOVEX_ERR_BAD_REQUEST', message: `the ${place} does not match the schema: ${summarise(problems)}`, problems, internal: false }
  }
  const fastify = typeof e.code === 'string' ? FASTIFY_CODES.get(e.code) : undefined
  if (fastify !== undefined) {
    let message = fastify.message ?? String(e.message)
    if (fastify.code === 'GOVEX_ERR_TOO_LARGE') message = `the body is larger than ${limits.bodyBytes} bytes (limits.bodyBytes)`
    return { status: ERROR_CODES[fastify.code], code: fastify.code, message, problems: undefined, internal: false }
  }
  if (typeof e.code === 'string' && e.code.startsWith('FST_JWT_')) {
    return { status: 401, code: 'GOVEX_ERR_UNAUTHENTICATED', message: String(e.message), problems: undefined, internal: false }
  }
  // The JSON body parser throws a SyntaxError carrying statusCode 400.
  if (err instanceof SyntaxError && e.statusCode === 400) {
    const problems: Problem[] = [{ code: 'json', path: '', message: 'is not valid JSON: ' + err.message }]
    return { status: 400, code: 'GOVEX_ERR_BAD_REQUEST', message: 'the body is not valid JSON: ' + err.message, problems, internal: false }
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code: ErrorCode = e.statusCode === 404 ? 'GOVEX_ERR_NOT_FOUND' : e.statusCode === 413 ? 'GOVEX_ERR_TOO_LARGE' : e.statusCode === 415 ? 'GOVEX_ERR_UNSUPPORTED_MEDIA_TYPE' : 'GOVEX_ERR_BAD_REQUEST'
    return { status: ERROR_CODES[code], code, message: String(e.message), problems: undefined, internal: false }
  }
  // Not a caller's doing: a fault in a store or in the gateway. Fail closed; the log has the cause.
  return { status: 503, code: 'GOVEX_ERR_UNAVAILABLE', message: 'the gateway could not complete the request; try again later (the gateway log has the cause)', problems: undefined, internal: true }
}

function summarise (problems: readonly Problem[]): string {
  const shown = problems.slice(0, 3).map(p => `${p.path === '' ? '(root)' : p.path} ${p.message}`)
  return shown.join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '')
}

const PROBLEM_WORDS: Partial<Record<ErrorCode, string>> = {
  GOVEX_ERR_BAD_SIGNATURE: 'bad-signature',
  GOVEX_ERR_INVALID_DOCUMENT: 'invalid',
  GOVEX_ERR_BAD_REQUEST: 'invalid'
}

export function errorBody (mapped: MappedError, requestId: string): ErrorBody {
  const body: ErrorBody = {
    statusCode: mapped.status,
    code: mapped.code,
    error: STATUS_CODES[mapped.status] ?? 'Error',
    message: mapped.message,
    requestId
  }
  if (mapped.problems !== undefined) body.problems = mapped.problems
  // PROTOCOL.md: 400 and 422 always list their problems, even when there is one.
  else if (mapped.status === 400 || mapped.status === 422) body.problems = [{ code: PROBLEM_WORDS[mapped.code] ?? 'invalid', path: '', message: mapped.message }]
  return body
}
