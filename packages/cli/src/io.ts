// Where a command writes and what it may read from its surroundings, so tests
// can run every command in-process with captured output and no real signals.
import { realpathSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** A text sink: process.stdout / process.stderr, or a buffer in tests. */
export interface Output {
  write (chunk: string): boolean
  readonly isTTY?: boolean
  /** true once the stream is closed: its reader went away */
  readonly destroyed?: boolean
  once? (event: 'drain' | 'close', listener: () => void): unknown
  off? (event: 'drain' | 'close', listener: () => void): unknown
}

export interface Io {
  stdout: Output
  stderr: Output
  env: Record<string, string | undefined>
  cwd: string
  /**
   * Stops long-running commands (start, demo). When absent they stop on
   * SIGINT/SIGTERM of the process.
   */
  signal?: AbortSignal | undefined
}

export function processIo (): Io {
  ignoreClosedReader(process.stdout)
  ignoreClosedReader(process.stderr)
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: userFolder(process.env, process.cwd()) }
}

/** The repository's root scripts that run this CLI (`pnpm govex …`, `pnpm demo`). */
const ROOT_SCRIPTS: ReadonlySet<string> = new Set(['govex', 'demo'])

/**
 * This repository's root package.json, whose scripts those are: three levels
 * up from this module in src/ and in dist/ alike. Installed elsewhere (packed
 * into a project's node_modules) it names a file no package runs from.
 */
const ROOT_PACKAGE_JSON = fileURLToPath(new URL('../../../package.json', import.meta.url))

/**
 * True when the CLI runs through this repository's `govex` or `demo` script:
 * npm and pnpm then run it from the repository root, set
 * `npm_lifecycle_event` to the script's name, `npm_package_json` to the root
 * package.json and `INIT_CWD` to the folder the user ran it from. A script of
 * the same name in a project of one's own (`"govex": "cd deploy && govex
 * start …"`) runs where that script says, not in INIT_CWD, even when that
 * project is also named govex: the package.json's path tells them apart.
 */
export function viaRootScript (env: Io['env']): boolean {
  const from = env.INIT_CWD
  const manifest = env.npm_package_json
  return ROOT_SCRIPTS.has(env.npm_lifecycle_event ?? '') && manifest !== undefined && samePath(manifest, ROOT_PACKAGE_JSON) &&
    from !== undefined && isAbsolute(from)
}

/** The repository's root package.json, as viaRootScript() knows it (for tests). */
export const rootPackageJson: string = ROOT_PACKAGE_JSON

function samePath (a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true
  try {
    return realpathSync(a) === realpathSync(b) // the repository reached through a symbolic link
  } catch {
    return false
  }
}

/**
 * The folder paths on the command line are relative to: the one the user ran
 * `pnpm govex …` from (INIT_CWD), not the repository root where the script
 * runs; else the working directory.
 */
export function userFolder (env: Io['env'], cwd: string): string {
  const from = env.INIT_CWD
  return viaRootScript(env) && from !== undefined ? from : cwd
}

const guarded = new WeakSet<NodeJS.WriteStream>()

/**
 * A reader that went away (`govex audit export | head`, `govex --help | true`)
 * makes Node emit EPIPE on the stream, which unhandled ends the process with a
 * stack trace. What is left to write is dropped instead, and the command ends
 * with its own exit code (`verify` still exits 1 on a broken chain).
 */
function ignoreClosedReader (stream: NodeJS.WriteStream): void {
  if (guarded.has(stream)) return
  guarded.add(stream)
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
  })
}

/** A streamed write found its sink closed: the reader went away, nothing is left to do. */
export class ReaderGoneError extends Error {
  constructor () {
    super('the output was closed before everything was written')
    this.name = 'ReaderGoneError'
  }
}

/**
 * Writes a chunk and waits for `drain` when the sink is full (streamed
 * exports); throws ReaderGoneError once the sink is closed (`| head` has read
 * enough), so the export stops instead of waiting for a drain that never comes.
 */
export async function writeChunk (out: Output, chunk: string): Promise<void> {
  if (closed(out)) throw new ReaderGoneError()
  if (out.write(chunk) || out.once === undefined) return
  await new Promise<void>(resolve => {
    const done = (): void => {
      out.off?.('drain', done)
      out.off?.('close', done)
      resolve()
    }
    out.once?.('drain', done)
    out.once?.('close', done)
  })
  if (closed(out)) throw new ReaderGoneError()
}

function closed (out: Output): boolean {
  return out.destroyed === true
}

/** A stop asked for by a signal: `stopped` resolves with its name; `release` gives the signals back. */
export interface StopRequest {
  readonly stopped: Promise<string>
  /** true once a stop was asked for */
  readonly requested: boolean
  /** the start is over: a signal from now on stops at once, without the "while starting" line */
  started (): void
  release (): void
}

/**
 * Listens for the stop of a long-running command from now on: the Io's signal,
 * or the first SIGINT/SIGTERM of the process. Taken before a slow start, so a
 * signal during it asks for a clean stop instead of killing the process (a
 * start half done could leave a store half written): one line on stderr says
 * so at once, naming `what` stops once the start is done. A second signal,
 * during the start or the stop, ends the process at once as Node's default
 * would, by that signal (exit 130 for SIGINT, 143 for SIGTERM), after a line
 * saying it does — so a start or a stop that hangs still ends on a second
 * Ctrl-C.
 */
export function stopRequest (io: Io, what = 'the gateway'): StopRequest {
  const abort = io.signal
  let requested = false
  let starting = true
  if (abort !== undefined) {
    const stopped = abort.aborted
      ? Promise.resolve('abort')
      : new Promise<string>(resolve => { abort.addEventListener('abort', () => { resolve('abort') }, { once: true }) })
    return { stopped, get requested () { return abort.aborted }, started: () => {}, release: () => {} }
  }
  let listening: ((name: NodeJS.Signals) => void) | undefined
  const listen = (listener: ((name: NodeJS.Signals) => void) | undefined): void => {
    if (listening !== undefined) {
      process.off('SIGINT', listening)
      process.off('SIGTERM', listening)
    }
    listening = listener
    if (listener !== undefined) {
      process.on('SIGINT', listener)
      process.on('SIGTERM', listener)
    }
  }
  const again = (name: NodeJS.Signals): void => {
    listen(undefined)
    io.stderr.write(`${name} again: exiting at once, without a clean stop\n`)
    // Node's default for the signal: the process ends by it
    process.kill(process.pid, name)
  }
  const stopped = new Promise<string>(resolve => {
    listen(name => {
      requested = true
      listen(again)
      if (starting) io.stderr.write(`${name} while ${what} is starting: it stops as soon as the start is done (${name} again exits at once)\n`)
      resolve(name)
    })
  })
  return {
    stopped,
    get requested () { return requested },
    started: () => { starting = false },
    release: () => { listen(undefined) }
  }
}
