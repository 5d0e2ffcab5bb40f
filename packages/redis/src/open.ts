// openRedisStores(): every store of @govex/core on one shared Redis, opened
// together, for any number of stateless gateway processes.
import type { Redis } from 'ioredis'
import { GovexError, isMemberId } from '@govex/core'
import type { Admission, AdmissionDecision, CheckpointOptions, StoreChange, Stores } from '@govex/core'
import { RedisAuditLog } from './audit-log.js'
import { ChangeFeed } from './changes.js'
import { checkConnection, connect, createClient, guarded, redactUrl } from './connection.js'
import { RedisDirectoryStore, RedisDisclosureStore, RedisMemberRegistry } from './documents.js'
import { DEFAULT_PREFIX, keyLayout, type KeyLayout } from './keys.js'
import { RedisPlanStore } from './plans.js'
import { RedisQuotaCounter } from './quota.js'
import { RedisReplayGuard, admitInRedis } from './replay.js'
import { serverWarnings } from './server-check.js'

export interface RedisStoresOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://…` */
  url: string
  /** key prefix (default `govex:`); several deployments can share one Redis */
  prefix?: string | undefined
  /** this gateway's id: its audit chain */
  gatewayId: string
  /** where audit records go while Redis is unreachable (`<spoolDir>/<gatewayId>.jsonl`); without it such appends reject */
  spoolDir?: string | undefined
  /** deadline of every Redis call, 1 to 1000 ms (default 600, so a refusal needing two calls still answers 503 within 2 s) */
  commandTimeoutMs?: number | undefined
  /** most audit records in one round trip (default 256) */
  maxBatch?: number | undefined
  /** append a signed checkpoint to this gateway's chain every `every` records */
  checkpoint?: CheckpointOptions | undefined
  /**
   * true: resolve at once even when Redis does not answer (a gateway that starts
   * while Redis is down): every call rejects with GOVEX_ERR_UNAVAILABLE until it
   * does, then the stores subscribe, read the audit chain head and tell
   * listeners to `reload`. false (default): reject when Redis does not answer
   * within two command deadlines.
   */
  waitForRedis?: boolean | undefined
  /** told of failures no caller awaits: connection loss, spool replay, a throwing listener */
  onError?: ((err: Error) => void) | undefined
  /**
   * told of server settings that weaken govex's promises (no append-only file,
   * an evicting maxmemory-policy), once the server answers; default: onError
   */
  onWarning?: ((message: string) => void) | undefined
}

export class RedisStores implements Stores {
  readonly members: RedisMemberRegistry
  readonly directories: RedisDirectoryStore
  readonly disclosures: RedisDisclosureStore
  readonly plans: RedisPlanStore
  readonly replay: RedisReplayGuard
  readonly quota: RedisQuotaCounter
  readonly audit: RedisAuditLog
  readonly keys: KeyLayout
  readonly #client: Redis
  readonly #sub: Redis
  readonly #feed: ChangeFeed
  #closing: Promise<void> | undefined

  constructor (client: Redis, sub: Redis, keys: KeyLayout, feed: ChangeFeed, audit: RedisAuditLog) {
    this.#client = client
    this.#sub = sub
    this.#feed = feed
    this.keys = keys
    this.members = new RedisMemberRegistry(client, keys)
    this.directories = new RedisDirectoryStore(client, keys)
    this.disclosures = new RedisDisclosureStore(client, keys)
    this.plans = new RedisPlanStore(client, keys)
    this.replay = new RedisReplayGuard(client, keys)
    this.quota = new RedisQuotaCounter(client, keys)
    this.audit = audit
  }

  async admit (admission: Admission): Promise<AdmissionDecision> {
    // the caller decided on its view of members and plans: not when that view may miss a change
    if (!this.#feed.fresh) throw this.#stale()
    return await admitInRedis(this.#client, this.keys, admission)
  }

  subscribe (listener: (change: StoreChange) => void): () => void {
    return this.#feed.subscribe(listener)
  }

  async ping (): Promise<void> {
    await guarded('pinging Redis', () => this.#client.ping())
    if (!this.#feed.fresh) throw this.#stale()
  }

  /**
   * The refusal of admit() and ping(): it becomes every consumer's 503 and the
   * public /readyz answer, so it names no Redis user, key, channel or setting.
   * Why a subscription failed (Redis's own words and what to change) was told
   * to onError, the gateway log.
   */
  #stale (): GovexError {
    if (!this.#feed.subscribed) {
      if (this.#feed.failure !== null) {
        return new GovexError('GOVEX_ERR_UNAVAILABLE', 'shared state (Redis) refused this gateway\'s change feed: changes made through other gateways would be missed, so nothing is decided here until it is restored; retry later (the operator should see the gateway log)')
      }
      return new GovexError('GOVEX_ERR_UNAVAILABLE', 'not subscribed to store changes in Redis (yet): changes made through other gateways would be missed; retry shortly (operators: check that Redis is reachable)')
    }
    return new GovexError('GOVEX_ERR_UNAVAILABLE', `the store change feed from Redis has not answered for ${Math.round(this.#feed.staleMs)} ms: changes made through other gateways may be missing here, so nothing is decided on them; retry shortly (operators: check that Redis is reachable and that the gateway's event loop is not blocked)`)
  }

  close (): Promise<void> {
    this.#closing ??= (async () => {
      this.#feed.stop()
      try {
        await this.audit.close()
      } finally {
        await Promise.all([quit(this.#client), quit(this.#sub)])
      }
    })()
    return this.#closing
  }
}

export async function openRedisStores (options: RedisStoresOptions): Promise<RedisStores> {
  const { url, gatewayId } = options
  const commandTimeoutMs = checkConnection(url, options.commandTimeoutMs)
  if (!isMemberId(gatewayId)) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `gatewayId must be a member id such as tj.gw.extranet-1, got ${JSON.stringify(gatewayId)}`)
  }
  const keys = keyLayout(options.prefix ?? DEFAULT_PREFIX)
  const onError = options.onError ?? (() => {})
  const connection = { url, commandTimeoutMs }
  // named so an operator (or a test) can tell the connections apart in CLIENT LIST
  const client = createClient(connection, { connectionName: `${keys.prefix}${gatewayId}/commands` })
  const sub = createClient(connection, { connectionName: `${keys.prefix}${gatewayId}/changes` })
  reportConnectionErrors(client, 'Redis', onError)
  reportConnectionErrors(sub, 'Redis subscriber', onError)
  // waitForRedis: when Redis answers at once, open as usual; else resolve after
  // the deadline and keep trying: what failed is told to onError or done at the
  // first `ready`, and the audit chain head is read once Redis answers (openDeferred)
  const wait = options.waitForRedis === true
  const deadline = 2 * commandTimeoutMs
  let feed: ChangeFeed | undefined
  try {
    // with keepTrying, ioredis reconnects by itself (retryStrategy) after a failed first attempt
    await Promise.all([client, sub].map(async c => {
      await connect(c, deadline, url, { keepTrying: wait }).catch((err: unknown) => { if (!wait) throw err })
    }))
    const onWarning = options.onWarning ?? ((message: string) => { onError(new Error(message)) })
    const warn = async (): Promise<void> => { for (const warning of await serverWarnings(client)) onWarning(warning) }
    if (wait) onReady(client, () => { warn().catch(() => {}) })
    else await warn()
    const changes = feed = new ChangeFeed(sub, keys.changes, onError, !wait || sub.status === 'ready')
    const subscribing = guarded('subscribing to store changes in Redis', () => changes.start())
    await (wait ? subscribing.catch(onError) : subscribing)
    const auditOptions = { client, keys, gatewayId, spoolDir: options.spoolDir, maxBatch: options.maxBatch, checkpoint: options.checkpoint, onError }
    const audit = wait ? await RedisAuditLog.openDeferred(auditOptions) : await RedisAuditLog.open(auditOptions)
    return new RedisStores(client, sub, keys, feed, audit)
  } catch (err) {
    feed?.stop()
    client.disconnect()
    sub.disconnect()
    throw err
  }
}

function onReady (client: Redis, listener: () => void): void {
  if (client.status === 'ready') listener()
  else client.once('ready', listener)
}

/** One report per outage, not one per reconnect attempt. */
function reportConnectionErrors (client: Redis, name: string, onError: (err: Error) => void): void {
  let reported = false
  client.on('error', (err: Error) => {
    if (reported) return
    reported = true
    onError(new GovexError('GOVEX_ERR_UNAVAILABLE', `${name} connection failed: ${err.message}; reconnecting`, { cause: err }))
  })
  client.on('ready', () => { reported = false })
}

async function quit (client: Redis): Promise<void> {
  if (client.status === 'end') return
  try {
    await client.quit()
  } catch {
    client.disconnect()
  }
}
