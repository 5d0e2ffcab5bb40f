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

/** A problem of a submitted document beyond its own rules, with the message its answer has when it is the only one. */
export interface SubmissionProblem {
  problem: Problem
  /** the answer's message when this is the document's only problem */
  alone: string
}

/** The document's id disagrees with the URL. */
export function idMismatch (what: string, path: string, inBody: string, inUrl: string): SubmissionProblem {
  return {
    problem: { code: 'id-mismatch', path, message: `must be ${JSON.stringify(inUrl)}, the id in the URL` },
    alone: `the ${what} says ${inBody} but the URL names ${inUrl}; they must be the same`
  }
}

/**
 * The submitted document when it is valid and fits where it is submitted;
 * otherwise one answer listing every problem (PROTOCOL.md: a 422 lists every
 * problem): its schema problems alone (400), else its rule problems together
 * with `more` — those of where it is submitted (the URL's id, the agency it
 * belongs to). A lone problem of `more` keeps its own message.
 */
export function acceptedAt<T> (what: string, result: Result<T>, more: ReadonlyArray<SubmissionProblem | undefined>): T {
  if (!result.ok && isSchemaFailure(result.problems)) throw documentError(what, result.problems)
  const extra = more.filter((p): p is SubmissionProblem => p !== undefined)
  if (result.ok) {
    if (extra.length === 0) return result.value
    const only = extra[0] as SubmissionProblem
    if (extra.length === 1) throw httpError('GOVEX_ERR_INVALID_DOCUMENT', only.alone, [only.problem])
  }
  throw documentError(what, [...(result.ok ? [] : result.problems), ...extra.map(p => p.problem)])
}
