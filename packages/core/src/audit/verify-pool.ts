// Checking blocks of stored lines on worker threads: hashing every record is
// most of verify's work, and blocks are independent (chunk-check.ts), so they
// go to a few workers side by side while the caller reads the next ones and
// stitches the results in order. Small inputs are checked on the calling
// thread: starting workers costs more than it saves there.
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { GovexError } from '../codes.js'
import { checkChunk, type ChunkSummary } from './chunk-check.js'

export interface CheckedChunk {
  buf: Buffer
  summary: ChunkSummary
}

export interface ChunkChecker {
  /** blocks worth having in flight at once */
  readonly capacity: number
  /**
   * Checks a block of whole lines. Takes ownership of `buf.buffer` (it may be
   * moved to another thread) and gives it back in the result: pass a buffer
   * that owns its memory (Buffer.allocUnsafeSlow), never a pooled one.
   */
  check: (buf: Buffer) => Promise<CheckedChunk>
  close: () => Promise<void>
}

/** Inputs below this many bytes are checked on the calling thread unless threads are asked for. */
export const PARALLEL_MIN_BYTES = 32 << 20
/** Most workers a verify starts. */
const MAX_THREADS = 4

/**
 * How many workers to use for `bytes` of input: `threads` as given (0: none),
 * or by default one per core (at most 4) for inputs of PARALLEL_MIN_BYTES or more.
 */
/** Refuses a verifyThreads option that is not a whole number (0: none), as the logs' open() do. */
export function checkVerifyThreads (threads: number | undefined): void {
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 0)) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `audit log verifyThreads must be a whole number of worker threads (0: none), got ${String(threads)}`)
  }
}

export function threadsFor (bytes: number, threads?: number): number {
  if (threads !== undefined) return Math.max(0, Math.floor(threads))
  return bytes >= PARALLEL_MIN_BYTES ? Math.min(availableParallelism(), MAX_THREADS) : 0
}

/** A checker with `threads` workers (0: on the calling thread). */
export function chunkChecker (threads: number): ChunkChecker {
  return threads > 0 ? new WorkerChecker(threads) : INLINE
}

const INLINE: ChunkChecker = {
  capacity: 1,
  check: async buf => ({ buf, summary: checkChunk(buf) }),
  close: async () => {}
}

interface Task {
  resolve: (chunk: CheckedChunk) => void
  reject: (err: Error) => void
}

interface Reply {
  id: number
  buffer: ArrayBuffer
  offset: number
  length: number
  summary: ChunkSummary
}

// the worker runs from the same place as this module: dist/*.js, or src/*.ts under a TypeScript loader
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './verify-worker.ts' : './verify-worker.js', import.meta.url)

class WorkerChecker implements ChunkChecker {
  readonly capacity: number
  private readonly workers: Worker[] = []
  private readonly tasks = new Map<number, Task>()
  private nextId = 0
  private failure: Error | undefined

  constructor (threads: number) {
    this.capacity = threads * 2
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(WORKER_URL)
      worker.on('message', (reply: Reply) => {
        const task = this.tasks.get(reply.id)
        this.tasks.delete(reply.id)
        task?.resolve({ buf: Buffer.from(reply.buffer, reply.offset, reply.length), summary: reply.summary })
      })
      worker.on('error', err => { this.fail(new GovexError('GOVEX_ERR_UNAVAILABLE', `an audit verify worker failed (${err.message}); verify again, or with verifyThreads 0 to check on the main thread`, { cause: err })) })
      worker.on('exit', code => { if (this.tasks.size > 0) this.fail(new GovexError('GOVEX_ERR_UNAVAILABLE', `an audit verify worker stopped (exit code ${code}); verify again, or with verifyThreads 0 to check on the main thread`)) })
      this.workers.push(worker)
    }
  }

  private fail (err: Error): void {
    this.failure ??= err
    for (const task of this.tasks.values()) task.reject(err)
    this.tasks.clear()
  }

  async check (buf: Buffer): Promise<CheckedChunk> {
    if (this.failure !== undefined) throw this.failure
    const id = this.nextId++
    const worker = this.workers[id % this.workers.length] as Worker
    return await new Promise<CheckedChunk>((resolve, reject) => {
      this.tasks.set(id, { resolve, reject })
      const buffer = buf.buffer as ArrayBuffer
      worker.postMessage({ id, buffer, offset: buf.byteOffset, length: buf.length }, [buffer])
    })
  }

  async close (): Promise<void> {
    await Promise.all(this.workers.map(async worker => await worker.terminate()))
  }
}

/**
 * The blocks of `source` checked by `checker`, in order, with up to its
 * capacity in flight: the next blocks are read and checked while the caller
 * takes the current one. An empty block is passed through unchecked.
 */
export async function * checkedInOrder<T extends { buf: Buffer }> (source: AsyncIterable<T>, checker: ChunkChecker): AsyncGenerator<T & CheckedChunk> {
  const inFlight: Array<Promise<T & CheckedChunk>> = []
  try {
    for await (const item of source) {
      inFlight.push(item.buf.length === 0
        ? Promise.resolve({ ...item, summary: { clean: true, lines: 0, runs: [] } })
        : checker.check(item.buf).then(checked => ({ ...item, ...checked })))
      if (inFlight.length >= checker.capacity) yield await (inFlight.shift() as Promise<T & CheckedChunk>)
    }
    while (inFlight.length > 0) yield await (inFlight.shift() as Promise<T & CheckedChunk>)
  } finally {
    // left early (a bad record found): what is still in flight is dropped
    for (const pending of inFlight) pending.catch(() => {})
  }
}
