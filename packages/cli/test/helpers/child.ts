// The real `govex` executable (bin/govex.js → dist/main.js) as a child
// process, its stdout and stderr captured: for what only a process shows
// (exit codes and signals, a reader gone, a signal while starting). The other
// tests run the CLI in-process (run.ts).
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

export const BIN = fileURLToPath(new URL('../../bin/govex.js', import.meta.url))
export const DIST = fileURLToPath(new URL('../../dist/main.js', import.meta.url))
/** a node --import module that holds writes into a folder (see hold-writes.mjs) */
export const HOLD_WRITES = new URL('./hold-writes.mjs', import.meta.url).href

/** Whether the executable is built; when not, `t` is skipped saying how to build it. */
export function built (t: Test): boolean {
  if (existsSync(DIST)) return true
  void t.skip(`packages/cli/dist/main.js is missing: run "npx tsc -b" at the repository root (${BIN})`, () => {})
  return false
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface ChildResult extends Exit {
  stdout: string
  stderr: string
}

export interface SpawnOptions {
  /** set in this process's environment for the child; a key set to undefined is left out */
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** node's own options, before the script (e.g. --import) */
  nodeArgs?: readonly string[]
  /** destroys stdout at once: a reader gone before the command writes (`govex … | true`) */
  closeStdout?: boolean
}

export interface Spawned {
  child: ChildProcessByStdio<null, Readable, Readable>
  /** what it wrote so far */
  stdout: () => string
  stderr: () => string
  /** once it ended and its output is read; rejects when it could not be started */
  closed: Promise<Exit>
}

export function spawnGovex (args: readonly string[], options: SpawnOptions = {}): Spawned {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  if (options.closeStdout === true) child.stdout.destroy()
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const closed = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => { resolve({ code, signal }) })
  })
  return { child, stdout: () => stdout, stderr: () => stderr, closed }
}

/** Runs the executable to its end. */
export async function runGovex (args: readonly string[], options: SpawnOptions = {}): Promise<ChildResult> {
  const r = spawnGovex(args, options)
  const exit = await r.closed
  return { ...exit, stdout: r.stdout(), stderr: r.stderr() }
}

const HOLD_FOLDER = fileURLToPath(new URL('../fixtures/hold-folder-lock.ts', import.meta.url))

export interface FolderHolder {
  /** true once it holds the folder's lock; false when it ended first (refused) */
  locked: boolean
  pid: number
  /** what it wrote to stderr so far */
  stderr: () => string
}

/**
 * Another process that opens `dir` as a gateway's file store does (taking its
 * lock) and holds it until the test ends, when it is SIGKILLed and awaited.
 */
export async function holdFolder (t: Test, dir: string): Promise<FolderHolder> {
  const child = spawn(process.execPath, [...process.execArgv, HOLD_FOLDER, dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const locked = await new Promise<boolean>(resolve => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => { if (d.includes('locked')) resolve(true) })
    void exited.then(() => { resolve(false) })
  })
  return { locked, pid: child.pid as number, stderr: () => stderr }
}
