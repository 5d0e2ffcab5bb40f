// The error codes of PROTOCOL.md ("Errors") with their HTTP status, and the one
// error class core throws. Adapters map codes to their own error types (the
// gateway builds @fastify/error constructors from this table); users match on
// `code`, never on the class.
import type { Problem } from './problems.js'

export const ERROR_CODES = {
  GOVEX_ERR_BAD_REQUEST: 400,
  GOVEX_ERR_UNAUTHENTICATED: 401,
  GOVEX_ERR_FORBIDDEN_ROLE: 403,
  GOVEX_ERR_ZONE: 403,
  GOVEX_ERR_NO_GRANT: 403,
  GOVEX_ERR_PURPOSE_NOT_GRANTED: 403,
  GOVEX_ERR_FIELDS_NOT_GRANTED: 403,
  GOVEX_ERR_CONDITION_UNMET: 403,
  GOVEX_ERR_NOT_FOUND: 404,
  GOVEX_ERR_REPLAY: 409,
  GOVEX_ERR_CONFLICT: 409,
  GOVEX_ERR_TOO_LARGE: 413,
  GOVEX_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  GOVEX_ERR_INVALID_DOCUMENT: 422,
  GOVEX_ERR_BAD_SIGNATURE: 422,
  GOVEX_ERR_QUOTA: 429,
  GOVEX_ERR_UPSTREAM: 502,
  GOVEX_ERR_UNAVAILABLE: 503,
  GOVEX_ERR_UPSTREAM_TIMEOUT: 504
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export function statusOf (code: ErrorCode): number {
  return ERROR_CODES[code]
}

export interface GovexErrorOptions {
  problems?: Problem[]
  cause?: unknown
}

/** An error a user can meet: a PROTOCOL.md code, its status, a message that says what to do. */
export class GovexError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly problems: Problem[] | undefined

  constructor (code: ErrorCode, message: string, options: GovexErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'GovexError'
    this.code = code
    this.statusCode = ERROR_CODES[code]
    this.problems = options.problems
  }
}

export function isGovexError (value: unknown): value is GovexError {
  if (!(value instanceof Error)) return false
  const code: unknown = (value as Error & { code?: unknown }).code
  return typeof code === 'string' && code in ERROR_CODES
}
