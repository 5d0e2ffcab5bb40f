// What every command's action receives: the Io and a place to set the exit code.
import { isAbsolute, relative, resolve } from 'node:path'
import type { Io } from './io.js'

export interface Context {
  readonly io: Io
  /** set to non-zero by commands that finish normally but report failure (lint, verify) */
  exitCode: number
}

export function createContext (io: Io): Context {
  return { io, exitCode: 0 }
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
