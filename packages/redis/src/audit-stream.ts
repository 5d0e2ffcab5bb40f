// Reading an audit stream for verify as raw bytes: XRANGE replies on a
// connection of this reader's own, parsed in place. Through ioredis every
// field of every entry becomes a Buffer object in nested arrays (five objects
// and two arrays a record, then garbage): at a million records that parsing,
// not the hashing, was most of verify's time on Redis. Here each reply is
// walked once and only the records are copied out, into one block of lines
// (what the file log's verify reads), ready for a worker thread.
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import type { Redis } from 'ioredis'
import { GovexError, Spares } from '@govex/core'
import { redisAdvice, type RedisUser } from './connection.js'

/** Stream entries read as one block of lines. */
export interface StreamBlock {
  /** each record's line, one a line in stream order, each ending in a newline; a buffer of its own (it may go to a worker thread) */
  buf: Buffer
  /** where record i's line ends (its newline) */
  ends: Int32Array
  /** the id of the last entry read ('' when none) */
  last: string
}

const CR = 13
const NEWLINE = 10
/** stands in for a missing or empty record: not JSON, so verify names it as it would the missing record */
const NO_RECORD = 45 // -

interface Request {
  /** how the reply is read: a block of records, or a simple status (AUTH, SELECT) */
  kind: 'block' | 'status'
  resolve: (value: StreamBlock | string) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

/** Where socket reads land (then copied into the reply buffer) */
const READ_BYTES = 1 << 18

/** Bytes received, handed to the reader once it exists. */
interface Input {
  receive: (bytes: Buffer, length: number) => void
}

/** A block smaller than this is copied out of the reply buffer rather than taking it along */
const SMALL_BLOCK = 64 << 10

/** A reply buffer to start with: a block of 2000 records is about 1.8 MB */
const INITIAL_BYTES = 2 << 20

function command (...args: string[]): Buffer {
  let text = `*${args.length}\r\n`
  for (const arg of args) text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`
  return Buffer.from(text)
}

/** `reply`: the error Redis answered, when it did (its advice differs: a refused user is not an outage to wait out), to `user` */
function unavailable (message: string, cause?: unknown, reply = '', user?: RedisUser): GovexError {
  return new GovexError('GOVEX_ERR_UNAVAILABLE', `${message}; ${redisAdvice(reply, user)}`, { cause })
}

/** A RESP2 connection that only reads streams (and authenticates). Requests are answered in order. */
export class StreamReader {
  readonly #socket: Socket
  readonly #timeoutMs: number
  /** whose rights a refusal's advice speaks of */
  readonly #user: RedisUser
  readonly #queue: Request[] = []
  /** where reply buffers come from: blocks the caller is done with come back there */
  readonly #spares: Spares
  /**
   * The reply being read starts at acc[0]; acc[pos, end) is received and not
   * parsed yet. The records of the entries parsed are moved down to
   * acc[0, out), each followed by a newline: when the reply is whole, that is
   * the block, and acc (a buffer of its own) goes with it.
   */
  #acc: Buffer = Buffer.allocUnsafeSlow(INITIAL_BYTES)
  #pos = 0
  #end = 0
  /** the block of the reply being read is acc[base, out) */
  #base = 0
  #out = 0
  /** entries of the reply still to come (-1: its header not read yet) */
  #remaining = -1
  #ends = new Int32Array(0)
  #count = 0
  #last = ''
  #closed: Error | undefined

  private constructor (socket: Socket, timeoutMs: number, input: Input, spares: Spares, user: RedisUser) {
    this.#socket = socket
    this.#user = user
    this.#spares = spares
    this.#timeoutMs = timeoutMs
    input.receive = (bytes, length) => { this.#receive(bytes, length) }
    socket.on('error', err => { this.#fail(unavailable(`reading the audit log from Redis: ${err.message}`, err)) })
    socket.on('close', () => { this.#fail(unavailable('reading the audit log from Redis: the connection closed')) })
  }

  /** Connects with the options of `client` (host or socket path, TLS, user, password, database); refusals advise on `user`'s rights. */
  static async open (client: Redis, spares: Spares = new Spares(), user: RedisUser = 'gateway'): Promise<StreamReader> {
    const o = client.options
    const timeoutMs = o.commandTimeout ?? 1000
    // with Sentinel the options name the sentinels: read from the master the client is connected to
    const sentinel = Array.isArray(o.sentinels) && o.sentinels.length > 0
    // only a ready client's socket is the current master's: while it reconnects after a failover it may be the old one's
    const peer = sentinel && client.status === 'ready' ? (client as unknown as { stream?: Socket }).stream : undefined
    if (sentinel && (peer?.remoteAddress === undefined || peer.remotePort === undefined)) {
      throw unavailable('cannot read the audit log from Redis: the sentinels have not named a reachable master yet; retry')
    }
    const host = sentinel ? peer?.remoteAddress : o.host
    const port = sentinel ? peer?.remotePort : o.port
    // rediss:// gives `tls: true` at run time, whatever the types say
    const tls = o.tls as unknown as ConnectionOptions | boolean | undefined
    const secure = tls !== undefined && tls !== false
    const input: Input = { receive: () => {} }
    // a plain socket reads into one buffer of ours, again and again: no allocation per read
    const onread = { buffer: Buffer.allocUnsafe(READ_BYTES), callback: (length: number, bytes: Uint8Array): boolean => { input.receive(bytes as Buffer, length); return true } }
    const socket = await new Promise<Socket>((resolve, reject) => {
      let s: Socket
      if (secure) {
        s = tlsConnect({ host, port, servername: host, ...(typeof tls === 'object' ? tls : {}) })
        s.on('data', (chunk: Buffer) => { input.receive(chunk, chunk.length) })
      } else {
        s = typeof o.path === 'string' && !sentinel ? netConnect({ path: o.path, onread }) : netConnect({ host, port: port ?? 6379, onread })
      }
      const timer = setTimeout(() => {
        s.destroy()
        reject(unavailable(`cannot connect to Redis to read the audit log: no answer within ${timeoutMs} ms`))
      }, Math.max(timeoutMs, 500))
      s.once(secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer)
        s.removeAllListeners('error')
        resolve(s)
      })
      s.once('error', err => {
        clearTimeout(timer)
        reject(unavailable(`cannot connect to Redis to read the audit log: ${err.message}`, err))
      })
    })
    socket.setNoDelay(true)
    const reader = new StreamReader(socket, timeoutMs, input, spares, user)
    try {
      if (o.password !== undefined && o.password !== null && o.password !== '') {
        const username = o.username !== undefined && o.username !== null && o.username !== '' ? [o.username] : []
        await reader.#status(command('AUTH', ...username, o.password))
      }
      if (o.db !== undefined && o.db !== null && o.db !== 0) await reader.#status(command('SELECT', String(o.db)))
    } catch (err) {
      reader.close()
      throw err
    }
    return reader
  }

  close (): void {
    this.#fail(unavailable('the audit stream reader is closed'))
    this.#socket.destroy()
  }

  /** Up to `count` entries of `stream` from `start` (`-`, or `(<id>` for after it) to `end`, as a block of lines. */
  async read (stream: string, start: string, count: number, end = '+'): Promise<StreamBlock> {
    return await this.#send('block', command('XRANGE', stream, start, end, 'COUNT', String(count))) as StreamBlock
  }

  async #status (cmd: Buffer): Promise<string> {
    return await this.#send('status', cmd) as string
  }

  async #send (kind: Request['kind'], cmd: Buffer): Promise<StreamBlock | string> {
    if (this.#closed !== undefined) throw this.#closed
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(unavailable(`reading the audit log from Redis: no answer within ${this.#timeoutMs} ms`))
        this.#socket.destroy()
      }, this.#timeoutMs)
      this.#queue.push({ kind, resolve, reject, timer })
      this.#socket.write(cmd)
    })
  }

  #fail (err: Error): void {
    this.#closed ??= err
    for (const request of this.#queue.splice(0)) {
      clearTimeout(request.timer)
      request.reject(err)
    }
  }

  #receive (bytes: Buffer, length: number): void {
    if (this.#end + length > this.#acc.length && this.#base > 0) {
      // what came before the current reply is done with: move the rest down
      const by = this.#base
      this.#acc.copyWithin(0, by, this.#end)
      this.#base = 0
      this.#out -= by
      this.#pos -= by
      this.#end -= by
    }
    if (this.#end + length > this.#acc.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.#acc.length * 2, this.#end + length))
      this.#acc.copy(grown, 0, 0, this.#end)
      this.#acc = grown
    }
    bytes.copy(this.#acc, this.#end, 0, length)
    this.#end += length
    try {
      while (this.#queue.length > 0 && this.#parse()) { /* a reply done: on to the next */ }
    } catch (err) {
      this.#fail(err as Error)
      this.#socket.destroy()
    }
  }

  /** Index of the CR ending the (short) line at `i`, or -1 when it has not all arrived. */
  #lineEnd (i: number): number {
    const acc = this.#acc
    for (let k = i; k + 1 < this.#end; k++) if (acc[k] === CR) return k
    return -1
  }

  /** A decimal integer in acc[from, to). */
  #integer (from: number, to: number): number {
    const acc = this.#acc
    const negative = acc[from] === 45
    let n = 0
    for (let k = negative ? from + 1 : from; k < to; k++) {
      const d = (acc[k] as number) - 48
      if (d < 0 || d > 9) throw unavailable('reading the audit log from Redis: a reply that is not RESP')
      n = n * 10 + d
    }
    return negative ? -n : n
  }

  /** Parses what it can of the first request's reply; true when that reply is whole (and answered). */
  #parse (): boolean {
    const request = this.#queue[0] as Request
    const acc = this.#acc
    if (this.#remaining === -1) {
      // the reply's first line: its type and size
      const line = this.#pos
      const cr = this.#lineEnd(line)
      if (cr === -1) return false
      // the reply's block is written over its own bytes, from its first one
      this.#base = this.#out = line
      const type = acc[line]
      const text = acc.toString('utf8', line + 1, cr)
      this.#pos = cr + 2
      if (type === 45) { // -
        this.#done(request, unavailable(`Redis refused a read of the audit log: ${text}`, undefined, text, this.#user))
        return true
      }
      if (request.kind === 'status') {
        this.#done(request, type === 43 ? text : unavailable(`Redis answered ${text} to a status command`)) // +
        return true
      }
      if (type !== 42) throw unavailable('reading the audit log from Redis: an XRANGE reply that is not an array') // *
      this.#remaining = Math.max(0, this.#integer(line + 1, cr))
      this.#ends = new Int32Array(this.#remaining)
      this.#count = 0
      this.#last = ''
    }
    while (this.#remaining > 0) {
      if (!this.#entry()) return false
      this.#remaining--
    }
    this.#remaining = -1
    const size = this.#out - this.#base
    let buf: Buffer
    if (size >= SMALL_BLOCK) {
      // a large block takes the reply buffer with it: what follows starts in another one
      buf = this.#acc.subarray(this.#base, this.#out)
      const next = this.#spares.take(Math.max(INITIAL_BYTES, this.#end - this.#pos))
      this.#acc.copy(next, 0, this.#pos, this.#end)
      this.#acc = next
      this.#end -= this.#pos
      this.#pos = 0
    } else {
      // a small one (a few records) is copied out, and the buffer goes on
      buf = Buffer.allocUnsafeSlow(size)
      this.#acc.copy(buf, 0, this.#base, this.#out)
    }
    this.#base = this.#out = this.#pos
    this.#done(request, { buf, ends: this.#ends, last: this.#last })
    return true
  }

  #done (request: Request, value: StreamBlock | string | Error): void {
    this.#queue.shift()
    clearTimeout(request.timer)
    if (value instanceof Error) request.reject(value)
    else request.resolve(value)
  }

  /**
   * One entry, `*2 $id *2k ($field $value)…`, if it has all arrived: its
   * record (the first `r` field's value) moved down into the block. false
   * leaves the position at the entry's start, to be read again with more bytes.
   */
  #entry (): boolean {
    const acc = this.#acc
    let i = this.#pos
    // *2
    let cr = this.#lineEnd(i)
    if (cr === -1) return false
    if (acc[i] !== 42) throw unavailable('reading the audit log from Redis: a stream entry that is not an array')
    i = cr + 2
    // $<n> id
    cr = this.#lineEnd(i)
    if (cr === -1) return false
    const idLength = this.#integer(i + 1, cr)
    const idStart = cr + 2
    if (idStart + idLength + 2 > this.#end) return false
    i = idStart + idLength + 2
    // *<2k> names and values
    cr = this.#lineEnd(i)
    if (cr === -1) return false
    const count = this.#integer(i + 1, cr)
    i = cr + 2
    let recordStart = -1
    let recordLength = 0
    let isRecord = false
    for (let k = 0; k < count; k++) {
      cr = this.#lineEnd(i)
      if (cr === -1) return false
      const length = this.#integer(i + 1, cr)
      const start = cr + 2
      // $-1: a null, no payload
      const next = length < 0 ? start : start + length + 2
      if (next > this.#end) return false
      if (k % 2 === 0) {
        isRecord = recordStart === -1 && length === 1 && acc[start] === 114 // r
      } else if (isRecord) {
        recordStart = start
        recordLength = Math.max(0, length)
      }
      i = next
    }
    // all of it is here: the last entry's id is read before its bytes are written over
    if (this.#remaining === 1) this.#last = acc.toString('latin1', idStart, idStart + idLength)
    // the entry's framing comes before its record, so the record only ever moves down, over bytes already read
    if (recordLength === 0) {
      acc[this.#out++] = NO_RECORD
    } else {
      acc.copyWithin(this.#out, recordStart, recordStart + recordLength)
      this.#out += recordLength
    }
    this.#ends[this.#count++] = this.#out - this.#base
    acc[this.#out++] = NEWLINE
    this.#pos = i
    return true
  }
}
