// Where a command writes and what it may read from its surroundings, so tests
// can run every command in-process with captured output and no real signals.

/** A text sink: process.stdout / process.stderr, or a buffer in tests. */
export interface Output {
  write (chunk: string): boolean
  readonly isTTY?: boolean
  once? (event: 'drain', listener: () => void): unknown
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
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }
}

/** Writes a chunk and waits for `drain` when the sink is full (streamed exports). */
export async function writeChunk (out: Output, chunk: string): Promise<void> {
  if (out.write(chunk) || out.once === undefined) return
  await new Promise<void>(resolve => { out.once?.('drain', resolve) })
}

/**
 * Resolves when the command should stop: the Io's signal, or the first
 * SIGINT/SIGTERM (listeners are registered only while waiting, so short
 * commands keep Node's default Ctrl-C behaviour).
 */
export function untilStopped (io: Io): Promise<string> {
  const signal = io.signal
  if (signal !== undefined) {
    if (signal.aborted) return Promise.resolve('abort')
    return new Promise(resolve => { signal.addEventListener('abort', () => { resolve('abort') }, { once: true }) })
  }
  return new Promise(resolve => {
    const stop = (name: NodeJS.Signals): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve(name)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}
