// Turning a document validation Result into the answer PROTOCOL.md asks for:
// schema problems are 400 GOVEX_ERR_BAD_REQUEST, rule problems 422
// GOVEX_ERR_INVALID_DOCUMENT; both list every problem.
import { isSchemaFailure } from '@govex/core'
import type { Problem, Result } from '@govex/core'
import { httpError } from './errors.js'

export function documentError (what: string, problems: Problem[]): Error {
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`
  return isSchemaFailure(problems)
    ? httpError('GOVEX_ERR_BAD_REQUEST', `the ${what} does not match its schema (${count}); fix each one listed in problems`, problems)
    : httpError('GOVEX_ERR_INVALID_DOCUMENT', `the ${what} breaks ${count === '1 problem' ? 'a rule' : 'rules'} of MODEL.md (${count}); fix each one listed in problems`, problems)
}

/** The document when valid; throws the 400/422 answer otherwise. */
export function accepted<T> (what: string, result: Result<T>): T {
  if (!result.ok) throw documentError(what, result.problems)
  return result.value
}

/** A 422 for a document whose own id disagrees with the URL. */
export function idMismatch (what: string, path: string, inBody: string, inUrl: string): Error {
  return httpError('GOVEX_ERR_INVALID_DOCUMENT', `the ${what} says ${inBody} but the URL names ${inUrl}; they must be the same`, [
    { code: 'id-mismatch', path, message: `must be ${JSON.stringify(inUrl)}, the id in the URL` }
  ])
}
