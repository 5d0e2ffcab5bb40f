// openRedisAuditReader(): the audit log of a Redis deployment opened to be read
// only, as an auditor's `govex audit … --config` reads it. openRedisStores is a
// gateway's open: a second connection SUBSCRIBEd to the change channel, the
// INFO of the server check, its own chain head read and its spool replayed, so
// its Redis user needs the gateway's rights. The reader opens one connection
// (verify and stats add the raw stream connection of audit-stream.ts while
// they run), never subscribes and never writes a key: its user needs only the
// few read commands of docs/operator-guide.md ("A Redis user for auditors"),
// and a refusal's advice names that section and those commands. Reading is the
// gateway's own code (audit-read.ts, hash-documents.ts).
import type { Redis } from 'ioredis'
import { checkVerifyThreads, GovexError, ZERO_DIGEST } from '@govex/core'
import type { AuditEntry, AuditLog, AuditRecord, ChainHead, Member } from '@govex/core'
import { AuditReader } from './audit-read.js'
import { checkConnection, connect, createClient, isRefusal, redactUrl, unavailable, type RedisUser } from './connection.js'
import { HashDocuments } from './hash-documents.js'
import { DEFAULT_PREFIX, keyLayout, type KeyLayout } from './keys.js'

/** the reader's refusals advise on an auditor's rights, not a gateway's */
const AUDITOR: RedisUser = 'auditor'

export interface RedisAuditReaderOptions {
  /** `redis://[user:password@]host:port[/db]`, `rediss://…` or `redis-sentinel://…` */
  url: string
  /** key prefix of the deployment (default `govex:`) */
  prefix?: string | undefined
  /** deadline of every Redis call, 1 to 1000 ms (default 600) */
  commandTimeoutMs?: number | undefined
  /** names the connection in CLIENT LIST as `<prefix><name>` (default `audit-reader`); no white space */
  name?: string | undefined
  /** worker threads a whole-log verify checks its reads on (0: none; default: one per core, at most 4, for large logs) */
  verifyThreads?: number | undefined
  /** told of connection failures no call awaits (each call rejects with GOVEX_ERR_UNAVAILABLE on its own) */
  onError?: ((err: Error) => void) | undefined
}

/** What an auditor reads of a Redis deployment: every gateway's chain, and the members (whose gateway keys check the checkpoints). */
export class RedisAuditReader {
  readonly audit: ReadOnlyRedisAuditLog
  readonly keys: KeyLayout
  readonly #client: Redis
  readonly #members: HashDocuments<Member>
  #closing: Promise<void> | undefined

  private constructor (client: Redis, keys: KeyLayout, verifyThreads: number | undefined) {
    this.#client = client
    this.keys = keys
    this.#members = new HashDocuments(client, keys.members, keys.changes, 'member', AUDITOR)
    this.audit = new ReadOnlyRedisAuditLog(client, keys, verifyThreads, async () => { await this.close() })
  }

  /** @internal openRedisAuditReader() is the way in */
  static create (client: Redis, keys: KeyLayout, verifyThreads: number | undefined): RedisAuditReader {
    return new RedisAuditReader(client, keys, verifyThreads)
  }

  /** the stored members, by id (one HGETALL) */
  async members (): Promise<Member[]> {
    return await this.#members.list()
  }

  close (): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#client.quit()
      } catch {
        // refused (an ACL without QUIT) or already gone: nothing is pending on a reader
        this.#client.disconnect()
      }
    })()
    return this.#closing
  }
}

/**
 * Every gateway's chain, read as any gateway reads the others'. It has no chain
 * of its own (gatewayId '', head seq 0), as the file store's read-only log
 * (FileAuditLog.openReadOnly): append rejects with GOVEX_ERR_UNAVAILABLE.
 */
export class ReadOnlyRedisAuditLog extends AuditReader implements AuditLog {
  readonly gatewayId = ''
  readonly #close: () => Promise<void>

  constructor (client: Redis, keys: KeyLayout, verifyThreads: number | undefined, close: () => Promise<void>) {
    super(client, keys, verifyThreads, AUDITOR)
    this.#close = close
  }

  append (_entry: AuditEntry): Promise<AuditRecord> {
    return Promise.reject(new GovexError('GOVEX_ERR_UNAVAILABLE', 'this Redis audit log was opened read-only (an auditor\'s view, openRedisAuditReader); records are appended by a gateway, through the log openRedisStores opens'))
  }

  head (): ChainHead {
    return { seq: 0, hash: ZERO_DIGEST }
  }

  /** nothing is ever pending */
  async flush (): Promise<void> {}

  /** closes the reader's connection */
  async close (): Promise<void> {
    await this.#close()
  }
}

/**
 * Opens the audit log and members of the deployment at `url` under `prefix`
 * for reading: rejects with GOVEX_ERR_BAD_REQUEST for a bad option, and with
 * GOVEX_ERR_UNAVAILABLE when Redis does not answer within two command
 * deadlines or refuses the user (the message says what to change).
 */
export async function openRedisAuditReader (options: RedisAuditReaderOptions): Promise<RedisAuditReader> {
  const { url } = options
  const commandTimeoutMs = checkConnection(url, options.commandTimeoutMs)
  const name = options.name ?? 'audit-reader'
  if (typeof name !== 'string' || !/^[!-~]{1,100}$/.test(name)) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `name must be 1 to 100 printable characters without white space (a Redis connection name), got ${JSON.stringify(name)}`)
  }
  checkVerifyThreads(options.verifyThreads)
  const keys = keyLayout(options.prefix ?? DEFAULT_PREFIX)
  const client = createClient({ url, commandTimeoutMs }, {
    connectionName: `${keys.prefix}${name}`,
    // ioredis's ready check is an INFO, which an auditor's user need not have
    // (without it ioredis prints a warning): a server still loading its data
    // answers LOADING, and that call fails as any unavailable one
    enableReadyCheck: false
  })
  const onError = options.onError ?? (() => {})
  // without the ready check nothing waits for the answers to AUTH and SELECT:
  // a refusal surfaces as an 'error' event (ioredis then reconnects, to be
  // refused again; on a failed SELECT it would go on in database 0)
  let refused: Error | undefined
  client.on('error', (err: Error) => {
    if (isRefusal(err)) refused ??= err
    onError(err)
  })
  await connect(client, 2 * commandTimeoutMs, url, { user: AUDITOR })
  try {
    // one read the auditor's user may make, answered after AUTH's and SELECT's:
    // so the open fails on a refused user, password or database, not the first
    // query (nor does it read database 0 for a URL's /db it may not SELECT)
    await client.smembers(keys.auditGateways)
    if (refused !== undefined) throw refused
  } catch (err) {
    client.disconnect()
    throw unavailable(refused ?? err, `cannot read the audit log in Redis at ${redactUrl(url)}`, AUDITOR)
  }
  return RedisAuditReader.create(client, keys, options.verifyThreads)
}
