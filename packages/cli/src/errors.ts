// Errors of the command line: one readable line on stderr and an exit code.
// Anything thrown by core or the gateway is turned into that line here.
import { isGovexError } from '@govex/core'
import type { Problem } from '@govex/core'

/** An error the user can fix; `message` says how. */
export class CliError extends Error {
  readonly exitCode: number
  readonly details: readonly string[]

  constructor (message: string, options: { exitCode?: number, details?: readonly string[], cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CliError'
    this.exitCode = options.exitCode ?? 1
    this.details = options.details ?? []
  }
}

/** `path code message`, the one-line form of a validation problem. */
export function formatProblem (p: Problem): string {
  return `${p.path === '' ? '/' : p.path} ${p.code} ${p.message}`
}

const SYSTEM_MESSAGES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory, expected a file',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'already exists',
  EADDRINUSE: 'address already in use',
  ECONNREFUSED: 'connection refused'
}

/** The lines to print for an error: a first line, then the problems it lists (if any). */
export function describeError (err: unknown): { lines: string[], exitCode: number } {
  if (err instanceof CliError) return { lines: [err.message, ...err.details], exitCode: err.exitCode }
  if (isGovexError(err)) {
    // a message that lists its problems already (the gateway's ConfigError, its
    // keyFile check) is printed as is: only problems it does not name are added
    const listed = err.message.includes('\n') ? [] : (err as { problems?: Problem[] }).problems ?? []
    const problems = listed.filter(p => !err.message.includes(`${p.path} ${p.message}`))
    return { lines: [err.message, ...problems.map(p => '  ' + formatProblem(p))], exitCode: 1 }
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    const known = code === undefined ? undefined : SYSTEM_MESSAGES[code]
    const message = err.message.split('\n')[0] ?? String(err)
    if (known !== undefined && !message.includes(known)) return { lines: [`${message} (${known})`], exitCode: 1 }
    return { lines: [message], exitCode: 1 }
  }
  return { lines: [String(err)], exitCode: 1 }
}
