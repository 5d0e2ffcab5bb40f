// What every command's action receives: the Io and a place to set the exit code.
import { basename, isAbsolute, relative, resolve } from 'node:path'
import { viaRootScript } from './io.js'
import type { Io } from './io.js'

export interface Context {
  readonly io: Io
  /** set to non-zero by commands that finish normally but report failure (lint, verify) */
  exitCode: number
  /** the script node ran (process.argv[1]): how the user started this CLI; `govex` when absent */
  readonly script?: string | undefined
}

export function createContext (io: Io, script?: string): Context {
  return { io, exitCode: 0, script }
}

/**
 * How to run govex again, for the command lines a command prints: as the user
 * did — `pnpm govex` through the repository's script (`pnpm -s govex` when
 * `quiet`, for `$(…)`), `node <path>/govex.js` when node ran the file, else
 * `govex` (the installed bin).
 */
export function govexCommand (ctx: Context, options: { quiet?: boolean } = {}): string {
  if (viaRootScript(ctx.io.env)) return options.quiet === true ? 'pnpm -s govex' : 'pnpm govex'
  const script = ctx.script
  if (script !== undefined && basename(script).endsWith('.js')) return `node ${displayPath(ctx, resolve(ctx.io.cwd, script))}`
  return 'govex'
}

/** A path from the command line, resolved against the Io's working directory. */
export function pathOf (ctx: Context, path: string): string {
  return resolve(ctx.io.cwd, path)
}

export function out (ctx: Context, line: string): void {
  ctx.io.stdout.write(line + '\n')
}

export function err (ctx: Context, line: string): void {
  ctx.io.stderr.write(line + '\n')
}

export function json (ctx: Context, value: unknown): void {
  ctx.io.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

/** A path as the user would type it: relative to the working directory when inside it, else absolute. */
export function displayPath (ctx: Context, path: string): string {
  const rel = relative(ctx.io.cwd, path)
  if (rel === '') return '.'
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel
}
