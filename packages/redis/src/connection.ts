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

// redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/db][?sentinelUsername=…&sentinelPassword=…]#masterName
// (the form Lettuce and other clients read): the sentinels to ask, and the name
// of the master they watch. Hosts may be IPv6 in brackets. rediss-sentinel://
// speaks TLS to the sentinels and to the master; the query names the sentinels'
// own credentials (the user and password before '@' are the master's).
const SENTINEL_URL = /^rediss?-sentinel:\/\/(?:([^:@/#]*)(?::([^@/#]*))?@)?([^/#@?]+)(?:\/(\d{1,2}))?(?:\?([^#]*))?#(.+)$/
const SENTINEL_SCHEME = /^rediss?-sentinel:\/\//
/** The query parameters a Sentinel URL may hold. */
const SENTINEL_PARAMS: ReadonlySet<string> = new Set(['sentinelUsername', 'sentinelPassword'])
const SENTINEL_HOST = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/

/** Whether `url` names Redis through Sentinel (`redis-sentinel://` or `rediss-sentinel://`). */
export function isSentinelUrl (url: string): boolean {
  return SENTINEL_SCHEME.test(url)
}

/**
 * The ioredis options of a `redis-sentinel://` or `rediss-sentinel://` URL, or
 * undefined for another scheme; throws when such a URL is malformed. The
 * password before '@' is the master's; `sentinelUsername` and
 * `sentinelPassword` in the query are the sentinels' (when they run with
 * `requirepass`). `rediss-sentinel://` speaks TLS to both.
 */
export function sentinelOptions (url: string): Partial<RedisOptions> | undefined {
  if (!isSentinelUrl(url)) return undefined
  const match = SENTINEL_URL.exec(url)
  const sentinels: Array<{ host: string, port: number }> = []
  for (const part of match?.[3]?.split(',') ?? []) {
    const host = SENTINEL_HOST.exec(part)
    const port = Number(host?.[3] ?? DEFAULT_SENTINEL_PORT)
    if (host === null || port < 1 || port > 65535) return malformed(url)
    sentinels.push({ host: (host[1] ?? host[2]) as string, port })
  }
  if (match === null || sentinels.length === 0) return malformed(url)
  const [, user, password, , db, query, name] = match
  // a stray '%' (a password not percent-encoded) is a malformed URL, not a URIError
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text)
    } catch {
      return malformed(url)
    }
  }
  const params = new Map<string, string>()
  for (const pair of query === undefined || query === '' ? [] : query.split('&')) {
    const eq = pair.indexOf('=')
    const key = eq < 0 ? pair : pair.slice(0, eq)
    if (!SENTINEL_PARAMS.has(key) || eq < 0 || params.has(key)) return malformed(url)
    params.set(key, decode(pair.slice(eq + 1)))
  }
  const sentinelUsername = params.get('sentinelUsername')
  const sentinelPassword = params.get('sentinelPassword')
  const tls = url.startsWith('rediss-')
  return {
    sentinels,
    name: decode(name as string),
    db: db === undefined ? 0 : Number(db),
    ...(user !== undefined && user !== '' ? { username: decode(user) } : {}),
    ...(password !== undefined ? { password: decode(password) } : {}),
    ...(sentinelUsername !== undefined && sentinelUsername !== '' ? { sentinelUsername } : {}),
    ...(sentinelPassword !== undefined ? { sentinelPassword } : {}),
    ...(tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {})
  }
}

function malformed (url: string): never {
  throw new GovexError('GOVEX_ERR_BAD_REQUEST', `store.url ${redactUrl(url)} is not a Sentinel URL govex reads: write redis-sentinel://host:26379[,host:26379...][/db][?sentinelUsername=…&sentinelPassword=…]#masterName (rediss-sentinel:// for TLS; percent-encode '@', '/', '#', '&' and '%' in passwords)`)
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

/** Waits for the client's first `ready`, within `ms`; on failure it stops trying unless `keepTrying`. */
export async function connect (client: Redis, ms: number, url: string, { keepTrying = false } = {}): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  // what went wrong while it tried (a refused password, sentinels that name no master) says more than the deadline
  let last: Error | undefined
  const onError = (err: Error): void => { last = err }
  client.on('error', onError)
  try {
    const connecting = client.connect()
    // a first attempt that fails after the race is decided is not a rejection anyone awaits
    connecting.catch(() => {})
    await Promise.race([
      connecting,
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms${last === undefined ? '' : ` (last error: ${last.message})`}`, { cause: last })), ms)
      })
    ])
  } catch (err) {
    if (!keepTrying) client.disconnect()
    // a refused certificate closes the connection: its 'error' says why, the rejection only that it closed
    const message = String((err as Error).message)
    const reason = last !== undefined && !message.includes(last.message) ? new Error(`${message} (${last.message})`, { cause: err }) : err
    const refused = /NOAUTH|WRONGPASS|invalid password/i.test(String((reason as Error).message))
    throw refused
      ? new GovexError('GOVEX_ERR_UNAVAILABLE', `cannot connect to Redis at ${redactUrl(url)}: ${(reason as Error).message}; ${isSentinelUrl(url) ? 'the sentinels or the master refused the credentials: set the sentinels\' password in store.url as ?sentinelPassword=… (percent-encoded) and the master\'s before the \'@\'' : 'Redis refused the credentials: check the user and password in store.url'}`, { cause: err })
      : unavailable(reason, `cannot connect to Redis at ${redactUrl(url)}`)
  } finally {
    clearTimeout(timer)
    client.off('error', onError)
  }
}

/** A password in the URL never reaches a message or a log. */
export function redactUrl (url: string): string {
  const scheme = SENTINEL_SCHEME.exec(url)?.[0]
  if (scheme !== undefined) {
    // the password runs to the last '@': one written unencoded may hold '@', '/' or '#'
    let rest = url.slice(scheme.length)
    const at = rest.lastIndexOf('@')
    const colon = rest.indexOf(':')
    if (at >= 0 && colon >= 0 && colon < at) rest = `${rest.slice(0, colon)}:***${rest.slice(at)}`
    // the query runs to the last '#'; only a sentinelUsername is shown, anything else (a
    // password, or a piece of one written unencoded, taken for another parameter) is not
    const question = rest.indexOf('?', Math.max(0, rest.lastIndexOf('@')))
    if (question < 0) return scheme + rest
    const hash = rest.lastIndexOf('#')
    const end = hash > question ? hash : rest.length
    const shown = rest.slice(question + 1, end).split('&').map(pair => pair.startsWith('sentinelUsername=') ? pair : pair.startsWith('sentinelPassword=') ? 'sentinelPassword=***' : '***')
    return `${scheme}${rest.slice(0, question)}?${shown.join('&')}${rest.slice(end)}`
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

export function unavailable (err: unknown, what: string): GovexError {
  const reason = err instanceof Error ? err.message : String(err)
  return new GovexError('GOVEX_ERR_UNAVAILABLE', `${what}: ${reason}; check that Redis is running and reachable, then retry`, { cause: err })
}

/** Maps any failure of a Redis call to a GovexError. */
export function toGovexError (err: unknown, what: string): GovexError {
  if (err instanceof GovexError) return err
  if (err instanceof Error) {
    const word = err.message.split(' ', 1)[0] ?? ''
    const code = SCRIPT_CODES.get(word)
    if (code !== undefined) return new GovexError(code, err.message.slice(word.length + 1))
  }
  return unavailable(err, what)
}

/** Runs a Redis call, turning every failure into a GovexError. */
export async function guarded<T> (what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    throw toGovexError(err, what)
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
