// Redis connections with a deadline on every call (MODEL.md "Stores shared by
// several gateways"): no unbounded offline queue, a command timeout of at most
// 1 s, unfulfilled commands never resent behind the caller's back. Failures
// become GovexError GOVEX_ERR_UNAVAILABLE so the gateway answers 503.
import { createHash } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import { GovexError, type ErrorCode } from '@govex/core'

export const MAX_COMMAND_TIMEOUT_MS = 1000
/**
 * The default deadline of one Redis call. An exchange makes up to two calls in
 * a row before it can answer 503 (replay claim, then the audit append of the
 * refusal), so each must stay well under 1 s for the 2 s of ARCHITECTURE.md.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 600

export interface ConnectionOptions {
  url: string
  commandTimeoutMs: number
}

/**
 * A connection that has not answered for this many command deadlines while a
 * call waits is presumed dead and replaced. Without it a connection that went
 * silent (a firewall or NAT that dropped its state, a host gone without a
 * reset) stays in use until TCP gives up, which takes minutes: every call fails
 * at its deadline and the spool never drains, though Redis answers new connections.
 */
export const SILENT_DEADLINES = 2

/** The sentinel port when a `redis-sentinel://` host names none (Redis's own default). */
export const DEFAULT_SENTINEL_PORT = 26379

// redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/db]#masterName
// (the form Lettuce and other clients read): the sentinels to ask, and the name
// of the master they watch. Hosts may be IPv6 in brackets.
const SENTINEL_URL = /^redis-sentinel:\/\/(?:([^:@/#]*)(?::([^@/#]*))?@)?([^/#@]+)(?:\/(\d{1,2}))?#(.+)$/
const SENTINEL_HOST = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/

/**
 * Checks what every opener takes before any connection: `url` is a redis://,
 * rediss:// or (well-formed) redis-sentinel:// URL, and the command deadline an
 * integer from 1 to MAX_COMMAND_TIMEOUT_MS; returns the deadline (default
 * DEFAULT_COMMAND_TIMEOUT_MS). Refusals are GOVEX_ERR_BAD_REQUEST saying what to write.
 */
export function checkConnection (url: unknown, commandTimeoutMs: number | undefined): number {
  if (typeof url !== 'string' || !/^(rediss?|redis-sentinel):\/\//.test(url)) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `store.url must be a redis://, rediss:// or redis-sentinel:// URL, got ${JSON.stringify(typeof url === 'string' ? redactUrl(url) : url)}`)
  }
  // a malformed Sentinel URL is refused here, before any connection
  sentinelOptions(url)
  const timeout = commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_COMMAND_TIMEOUT_MS) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `commandTimeoutMs must be an integer from 1 to ${MAX_COMMAND_TIMEOUT_MS}, got ${String(timeout)}`)
  }
  return timeout
}

/**
 * The ioredis options of a `redis-sentinel://` URL, or undefined for another
 * scheme; throws when such a URL is malformed. The password is the master's
 * (sentinels without a password, as they usually run).
 */
export function sentinelOptions (url: string): Partial<RedisOptions> | undefined {
  if (!url.startsWith('redis-sentinel://')) return undefined
  const match = SENTINEL_URL.exec(url)
  const sentinels: Array<{ host: string, port: number }> = []
  for (const part of match?.[3]?.split(',') ?? []) {
    const host = SENTINEL_HOST.exec(part)
    const port = Number(host?.[3] ?? DEFAULT_SENTINEL_PORT)
    if (host === null || port < 1 || port > 65535) return malformed(url)
    sentinels.push({ host: (host[1] ?? host[2]) as string, port })
  }
  if (match === null || sentinels.length === 0) return malformed(url)
  const [, user, password, , db, name] = match
  // a stray '%' (a password not percent-encoded) is a malformed URL, not a URIError
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text)
    } catch {
      return malformed(url)
    }
  }
  return {
    sentinels,
    name: decode(name as string),
    db: db === undefined ? 0 : Number(db),
    ...(user !== undefined && user !== '' ? { username: decode(user) } : {}),
    ...(password !== undefined ? { password: decode(password) } : {})
  }
}

function malformed (url: string): never {
  throw new GovexError('GOVEX_ERR_BAD_REQUEST', `store.url ${redactUrl(url)} is not a Sentinel URL govex reads: write redis-sentinel://host:26379[,host:26379...][/db]#masterName`)
}

export function createClient (options: ConnectionOptions, extra: Partial<RedisOptions> = {}): Redis {
  const sentinel = sentinelOptions(options.url)
  const common: RedisOptions = {
    lazyConnect: true,
    commandTimeout: options.commandTimeoutMs,
    socketTimeout: SILENT_DEADLINES * options.commandTimeoutMs,
    connectTimeout: Math.max(options.commandTimeoutMs, 500),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    // reconnect forever, quickly: an outage ends as soon as Redis answers again
    retryStrategy: times => Math.min(50 * times, 500),
    keepAlive: 10_000,
    ...extra
  }
  // with Sentinel, ioredis asks the sentinels for the master, and again after a failover
  const client = sentinel === undefined ? new Redis(options.url, common) : new Redis({ ...sentinel, ...common })
  // when the SELECT of the URL's /db fails (a user without +select, a database
  // the server lacks), ioredis only emits 'error' and goes on in database 0:
  // such a connection is closed and tried again (retryStrategy), as one whose
  // AUTH is refused, so no call reads or writes another database than the URL's
  client.on('error', (err: Error) => { if (isSelectFailure(err)) client.disconnect(true) })
  // ioredis 5.11 keeps the socketTimeout timer of a closed connection, and when
  // it fires it destroys whichever connection is current, though that one answers
  // (redis/ioredis#2147, fixed by #2148): the timer goes with its connection.
  client.on('close', () => {
    const stale = client as unknown as { socketTimeoutTimer?: NodeJS.Timeout }
    clearTimeout(stale.socketTimeoutTimer)
    stale.socketTimeoutTimer = undefined
  })
  return client
}

/** Waits for the client's first `ready`, within `ms`; on failure it stops trying unless `keepTrying`. A refusal's advice is for `user`'s rights. */
export async function connect (client: Redis, ms: number, url: string, { keepTrying = false, user }: { keepTrying?: boolean, user?: RedisUser } = {}): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  // a refused AUTH or SELECT reaches only the 'error' event; connect() then rejects with "Connection is closed."
  let refused: Error | undefined
  const onError = (err: Error): void => { if (isRefusal(err)) refused = err }
  client.on('error', onError)
  try {
    const connecting = client.connect()
    // a first attempt that fails after the race is decided is not a rejection anyone awaits
    connecting.catch(() => {})
    await Promise.race([
      connecting,
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
      })
    ])
  } catch (err) {
    if (!keepTrying) client.disconnect()
    throw unavailable(refused ?? err, `cannot connect to Redis at ${redactUrl(url)}`, user)
  } finally {
    clearTimeout(timer)
    client.off('error', onError)
  }
}

/** A password in the URL never reaches a message or a log. */
export function redactUrl (url: string): string {
  if (url.startsWith('redis-sentinel://')) {
    // the password runs to the last '@': one written unencoded may hold '@', '/' or '#'
    const rest = url.slice('redis-sentinel://'.length)
    const at = rest.lastIndexOf('@')
    const colon = rest.indexOf(':')
    return at < 0 || colon < 0 || colon > at ? url : `redis-sentinel://${rest.slice(0, colon)}:***${rest.slice(at)}`
  }
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return '(invalid url)'
  }
}

/** Our Lua scripts signal refusals with an error reply that starts with a govex code. */
const SCRIPT_CODES: ReadonlyMap<string, ErrorCode> = new Map([
  ['GOVEX_ERR_CONFLICT', 'GOVEX_ERR_CONFLICT'],
  ['GOVEX_ERR_NOT_FOUND', 'GOVEX_ERR_NOT_FOUND']
])

/**
 * Whose Redis user a refusal is about, for the advice it carries: a gateway's
 * (openRedisStores; docs/operator-guide.md, "A Redis user for govex") or an
 * auditor's reader (openRedisAuditReader; "A Redis user for auditors"), which
 * needs far fewer rights.
 */
export type RedisUser = 'gateway' | 'auditor'

/**
 * What to do about a Redis error reply that no retry mends: the server
 * answers, but refuses this user.
 */
const REFUSALS: ReadonlyMap<string, string> = new Map([
  ['NOPERM', 'the Redis user in store.url lacks a permission govex needs (its commands, the keys under store.prefix, the channel <prefix>changes); grant them with ACL SETUSER as docs/operator-guide.md shows'],
  ['WRONGPASS', 'Redis refused the user or password in store.url; correct them'],
  ['NOAUTH', 'Redis requires a password: put the user and password in store.url (redis://user:password@host:port/db)']
])

/** An auditor's reader runs only these (and CLIENT SETNAME, whose refusal does no harm): its NOPERM advice names them. */
const AUDITOR_NOPERM = 'the Redis user in store.url lacks a command or key the audit reader needs: HGETALL, SMEMBERS, ZRANGE and XRANGE on the keys under store.prefix, and SELECT for a database other than 0; grant them with ACL SETUSER as docs/operator-guide.md shows in "A Redis user for auditors"'

/** What an operator should do about a failed Redis call, from its error (reply) text and whose user made it. */
export function redisAdvice (reason: string, user: RedisUser = 'gateway'): string {
  const word = firstWord(reason)
  if (word === 'NOPERM' && user === 'auditor') return AUDITOR_NOPERM
  if (reason.startsWith('ERR DB index is out of range')) return 'the database store.url names (its /db) is not one this Redis has; name one it has (databases 0 to 15 unless the server sets `databases`)'
  return REFUSALS.get(word) ?? 'check that Redis is running and reachable, then retry'
}

/**
 * Whether `err` is a refusal no retry mends, that ioredis reports only as an
 * 'error' event while connecting: a refused user or password (AUTH), or a
 * refused or missing database (SELECT).
 */
export function isRefusal (err: Error): boolean {
  return REFUSALS.has(firstWord(err.message)) || isSelectFailure(err)
}

/**
 * Whether `err` is Redis's answer to the SELECT ioredis sends on connecting
 * (a URL's /db): ioredis names the command of an error reply in `err.command`.
 */
function isSelectFailure (err: Error): boolean {
  const command: unknown = (err as { command?: unknown }).command
  return typeof command === 'object' && command !== null && (command as { name?: unknown }).name === 'select'
}

/** An error reply's code: its first word (NOPERM, WRONGPASS, ...) */
function firstWord (reason: string): string {
  return reason.split(' ', 1)[0] ?? ''
}

export function unavailable (err: unknown, what: string, user?: RedisUser): GovexError {
  const reason = err instanceof Error ? err.message : String(err)
  return new GovexError('GOVEX_ERR_UNAVAILABLE', `${what}: ${reason}; ${redisAdvice(reason, user)}`, { cause: err })
}

/** Maps any failure of a Redis call (made as `user`) to a GovexError. */
export function toGovexError (err: unknown, what: string, user?: RedisUser): GovexError {
  if (err instanceof GovexError) return err
  if (err instanceof Error) {
    const word = err.message.split(' ', 1)[0] ?? ''
    const code = SCRIPT_CODES.get(word)
    if (code !== undefined) return new GovexError(code, err.message.slice(word.length + 1))
  }
  return unavailable(err, what, user)
}

/** Runs a Redis call (made as `user`), turning every failure into a GovexError. */
export async function guarded<T> (what: string, call: () => Promise<T>, user?: RedisUser): Promise<T> {
  try {
    return await call()
  } catch (err) {
    throw toGovexError(err, what, user)
  }
}

/** A Lua script run by EVALSHA, loaded by EVAL the first time a server misses it. */
export class LuaScript {
  readonly sha: string
  constructor (readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex')
  }

  async run (client: Redis, keys: readonly string[], args: readonly (string | number | Buffer)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return await client.eval(this.source, keys.length, ...keys, ...args)
      }
      throw err
    }
  }
}
