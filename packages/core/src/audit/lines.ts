// Reading a JSONL file line by line with each line's byte offset (the file
// log's index points into the file), in fixed-size chunks so memory stays flat
// whatever the file's size.
import type { FileHandle } from 'node:fs/promises'
import { isAscii } from 'node:buffer'

export interface FileLine {
  text: string
  /** byte offset of the line's first byte */
  offset: number
  /** bytes of the line, without its newline */
  bytes: number
  /** false for a last line with no newline (a torn write) */
  complete: boolean
}

const CHUNK = 1 << 20

/**
 * Lines of `fh` from byte `start` up to byte `end` (default: its size when
 * called), read `chunk` bytes at a time (a reader that stops early, as the
 * spool's does after one batch, passes a smaller one so little is read for nothing).
 */
export async function * readLines (fh: FileHandle, start = 0, end?: number, chunk = CHUNK): AsyncGenerator<FileLine> {
  const stop = end ?? (await fh.stat()).size
  let carry: Buffer = Buffer.alloc(0)
  /** file offset of carry[0] */
  let base = start
  let position = start
  while (position < stop) {
    const block = Buffer.allocUnsafe(Math.min(chunk, stop - position))
    const { bytesRead } = await fh.read(block, 0, block.length, position)
    if (bytesRead === 0) break
    position += bytesRead
    const buf = carry.length === 0 ? block.subarray(0, bytesRead) : Buffer.concat([carry, block.subarray(0, bytesRead)])
    let from = 0
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, from)) {
      yield { text: buf.toString('utf8', from, nl), offset: base + from, bytes: nl - from, complete: true }
      from = nl + 1
    }
    carry = buf.subarray(from)
    base += from
  }
  if (carry.length > 0) yield { text: carry.toString('utf8'), offset: base, bytes: carry.length, complete: false }
}

export interface LineBatch {
  /** whole lines (empty ones included), without their newlines */
  lines: string[]
  /** a last line with no newline (a torn write); only on the last batch */
  torn?: string
}

const BATCH_CHUNK = 4 << 20
/** room for the part of a line carried over from the read before */
const CARRY_ROOM = 64 << 10

/**
 * Lines of `fh` from byte `start` to `end`, many at a time: each large read is
 * decoded once and split natively, which is what makes verify fast (no
 * per-line generator step or decode call). An all-ASCII read (the usual
 * case: ids, digests, timestamps) is decoded as latin1, a plain copy; any other
 * as UTF-8.
 */
export async function * readLineBatches (fh: FileHandle, start = 0, end?: number): AsyncGenerator<LineBatch> {
  for await (const chunk of readLineChunks(fh, start, end)) {
    if (chunk.buf.length > 0) {
      const text = chunk.buf.subarray(0, chunk.buf.length - 1)
      yield { lines: text.toString(isAscii(text) ? 'latin1' : 'utf8').split('\n') }
    }
    if (chunk.torn !== undefined) yield { lines: [], torn: chunk.torn.toString('utf8') }
  }
}

export interface ChunkBatch {
  /** whole lines, each ending with a newline */
  buf: Buffer
  /** a last line with no newline (a torn write); only on the last batch */
  torn?: Buffer
}

/**
 * Read buffers given back once their lines are checked, to be read into
 * again: a long verify then goes round a few buffers instead of taking a
 * fresh one (and its page faults, and garbage) per read. Every buffer is of
 * its own memory, never a pooled one, so it may be moved to a worker thread.
 */
export class Spares {
  private readonly free: ArrayBuffer[] = []
  constructor (private readonly keep = 8) {}

  /** A buffer of `bytes`, over memory of at least `room` bytes. */
  take (bytes: number, room = bytes): Buffer {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const memory = this.free[i] as ArrayBuffer
      if (memory.byteLength >= bytes) {
        this.free.splice(i, 1)
        return Buffer.from(memory, 0, bytes)
      }
    }
    return Buffer.from(Buffer.allocUnsafeSlow(Math.max(bytes, room)).buffer as ArrayBuffer, 0, bytes)
  }

  /** Gives back a buffer `take` made; its caller no longer reads it, nor anything else over its memory. */
  give (buf: Buffer): void {
    const memory = buf.buffer as ArrayBuffer
    if (this.free.length < this.keep && memory.byteLength > 0 && !this.free.includes(memory)) this.free.push(memory)
  }
}

/**
 * Like readLineBatches, without decoding: the caller walks the lines of each
 * large read in place (verify's hot path). With `spares`, reads go into
 * buffers from there (give each batch's buffer back when done with it).
 */
export async function * readLineChunks (fh: FileHandle, start = 0, end?: number, spares?: Spares): AsyncGenerator<ChunkBatch> {
  const stop = end ?? (await fh.stat()).size
  let position = start
  // the next read is on its way while the caller takes the lines of the last one
  const readAfter = (carry: Buffer): { buf: Buffer, carry: number, read: Promise<number> } | undefined => {
    if (position >= stop) return undefined
    const want = Math.min(BATCH_CHUNK, stop - position)
    // never a pooled buffer: a batch may be handed to a worker thread (verify-pool.ts)
    const buf = spares !== undefined ? spares.take(carry.length + want, BATCH_CHUNK + CARRY_ROOM) : Buffer.allocUnsafeSlow(carry.length + want)
    carry.copy(buf, 0)
    const read = fh.read(buf, carry.length, want, position).then(({ bytesRead }) => bytesRead)
    position += want
    return { buf, carry: carry.length, read }
  }
  let next = readAfter(Buffer.alloc(0))
  let carry: Buffer = Buffer.alloc(0)
  while (next !== undefined) {
    const { buf, read } = next
    const bytesRead = await read
    if (bytesRead === 0) break
    const filled = next.carry + bytesRead
    const last = buf.lastIndexOf(10, filled - 1)
    // what follows the last newline starts the next read (copied: this buffer goes to the caller)
    carry = last === -1 ? Buffer.from(buf.subarray(0, filled)) : Buffer.from(buf.subarray(last + 1, filled))
    if (bytesRead < (next.buf.length - next.carry)) position = stop
    next = readAfter(carry)
    if (last !== -1) yield { buf: buf.subarray(0, last + 1) }
  }
  if (carry.length > 0) yield { buf: Buffer.alloc(0), torn: carry }
}
