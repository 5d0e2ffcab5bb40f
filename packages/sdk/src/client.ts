// The consumer client: signs its own short-lived token (reused until shortly
// before expiry), sends exchange envelopes to the gateway with undici, resends
// an envelope only when its request was provably not sent (PROTOCOL.md
// "Exchange"), and turns every refusal into a GovexRequestError with the
// PROTOCOL.md code.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Pool, type Dispatcher } from 'undici'
import { chooseGrant, isGrantRefusal, resourceGrantsOf, signJwt, validateSchema, PrivateJwk, type Grant, type GrantRefusalCode, type Problem, type Resource } from '@govex/core'
import { GovexRequestError, optionsError, SDK_ERROR_CODES, type SdkErrorCode } from './errors.js'
import { watchSending, wasSent } from './sent.js'
import type { ResourceMap, FieldOf, ItemsOf, Selected, ExchangeRequest, ExchangeResponse } from './types.js'

export interface ClientOptions {
  /** e.g. `http://127.0.0.1:8080` */
  gatewayUrl: string
  /** the caller's member id (`iss`) */
  memberId: string
  /** the member's private Ed25519 JWK, or a path to its JSON file */
  privateKey: PrivateJwk | string
  /** the gateway id or pool audience (`aud`) */
  gatewayId: string
  /** token lifetime, ≤ 300 s (default 300) */
  tokenTtlS?: number
  /** per-request timeout (default 10 000 ms) */
  timeoutMs?: number
  /** resends of the same envelope after a connection that failed before the request was sent (default 2) */
  retries?: number
  /** connections to the gateway (default 16) */
  connections?: number
  /** an undici dispatcher to use instead of the client's own pool */
  dispatcher?: Dispatcher
}

export interface CatalogQuery {
  provider?: string
  q?: string
  classification?: string
}

export type CatalogResource = Omit<Resource, 'endpoint'> & { endpoint?: Resource['endpoint'] }

/** What a dry run reads of an exchange request: an ExchangeRequest will do. */
export type CanRequest = Pick<ExchangeRequest, 'purpose' | 'fields' | 'userId' | 'caseRef'>

export interface CanResult {
  allowed: boolean
  /** why not, as the gateway would answer (the same code and message) */
  code?: GrantRefusalCode
  message?: string
  /** the grant the exchange would use, or the one a refusal is about */
  grant?: Grant
  /** when allowed: the fields the exchange would get (the requested ones, or every field the grant allows) */
  fields?: string[]
}

interface CachedToken { token: string, issuedAt: number, refreshAt: number }

/** An exchange on its way: the envelope's bytes and id. */
interface Sending {
  body: string
  envelopeId: string
  signal: AbortSignal | undefined
  timeoutMs: number | undefined
}

/** What an error says about an exchange: its envelope id, and whether its request was sent. */
interface ExchangeState { envelopeId: string, sent: boolean }

// Connection failures worth another attempt, made only when the request was not
// sent (or is a read, which changes nothing at the gateway).
const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET'])

export class GovexClient<M extends ResourceMap = ResourceMap> {
  readonly memberId: string
  readonly gatewayId: string
  /** how many tokens this client has signed (one per ~ttl, not per call) */
  tokensSigned = 0
  readonly #origin: string
  readonly #key: PrivateJwk
  readonly #ttlS: number
  readonly #timeoutMs: number
  readonly #retries: number
  readonly #dispatcher: Dispatcher
  /** the pool this client made, closed with it; undefined for a dispatcher given in the options */
  readonly #ownPool: Dispatcher | undefined
  #token: CachedToken | undefined

  constructor (options: ClientOptions) {
    if (typeof options !== 'object' || options === null) throw optionsError('createClient(options): options must be an object')
    const url = parseUrl(options.gatewayUrl)
    if (typeof options.memberId !== 'string' || options.memberId === '') throw optionsError('memberId is required: your agency\'s member id, e.g. "tj.mca"')
    if (typeof options.gatewayId !== 'string' || options.gatewayId === '') throw optionsError('gatewayId is required: the gateway id or pool audience your tokens are for')
    const ttl = options.tokenTtlS ?? 300
    if (!Number.isInteger(ttl) || ttl < 10 || ttl > 300) throw optionsError('tokenTtlS must be an integer between 10 and 300 (PROTOCOL.md: exp − iat ≤ 300)')
    this.memberId = options.memberId
    this.gatewayId = options.gatewayId
    this.#origin = url.origin
    this.#key = loadKey(options.privateKey)
    this.#ttlS = ttl
    this.#timeoutMs = positive(options.timeoutMs, 10_000, 'timeoutMs')
    const retries = options.retries ?? 2
    if (!Number.isInteger(retries) || retries < 0) throw optionsError('retries must be a whole number ≥ 0: how often to resend an envelope whose request was not sent')
    this.#retries = retries
    const base = options.dispatcher ?? new Pool(url.origin, { connections: options.connections ?? 16, keepAliveTimeout: 3_000 })
    this.#ownPool = options.dispatcher === undefined ? base : undefined
    this.#dispatcher = base.compose(watchSending)
  }

  /** Asks for data of a resource under the active plan. */
  async request<Id extends string, const F extends FieldOf<M, Id> = FieldOf<M, Id>> (
    resourceId: Id,
    request: ExchangeRequest<F>
  ): Promise<ExchangeResponse<Selected<ItemsOf<M, Id>, F>>> {
    if (typeof request !== 'object' || request === null || typeof request.purpose !== 'string') {
      throw optionsError('request(resourceId, { purpose, ... }): purpose is required')
    }
    const envelope: Record<string, unknown> = { id: request.id ?? randomUUID(), purpose: request.purpose }
    if (request.fields !== undefined) envelope.fields = request.fields
    if (request.query !== undefined) envelope.query = request.query
    if (request.userId !== undefined) envelope.userId = request.userId
    if (request.caseRef !== undefined) envelope.caseRef = request.caseRef
    const sending: Sending = { body: JSON.stringify(envelope), envelopeId: String(envelope.id), signal: request.signal, timeoutMs: request.timeoutMs }
    return await this.#call('/v1/exchange/' + encodeURIComponent(resourceId), sending) as ExchangeResponse<Selected<ItemsOf<M, Id>, F>>
  }

  /** The compiled catalog, optionally filtered. */
  async catalog (query: CatalogQuery = {}): Promise<CatalogResource[]> {
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) if (typeof v === 'string') params.set(k, v)
    const qs = params.size > 0 ? '?' + params.toString() : ''
    const answer = await this.#call('/v1/catalog' + qs) as { resources?: CatalogResource[] } | CatalogResource[]
    return Array.isArray(answer) ? answer : (answer.resources ?? [])
  }

  /** One catalog entry. */
  async resource (resourceId: string): Promise<CatalogResource> {
    const answer = await this.#call('/v1/catalog/' + encodeURIComponent(resourceId)) as { resource?: CatalogResource } & CatalogResource
    return answer.resource ?? answer
  }

  /** This member's grants in the active plan. */
  async grantsMine (): Promise<Grant[]> {
    const answer = await this.#call('/v1/grants/mine') as { grants?: Grant[] } | Grant[]
    return Array.isArray(answer) ? answer : (answer.grants ?? [])
  }

  /**
   * A dry run: would an exchange with this purpose, these fields, userId and
   * caseRef be granted now? Decides from GET /v1/grants/mine with core's
   * chooseGrant(), the gateway's own choice of grant and refusal (validity →
   * purpose → fields → conditions). Calls no provider; it does not check the
   * catalog, the zone, required query parameters or the quota.
   */
  async can (resourceId: string, request: CanRequest, now = Date.now()): Promise<CanResult> {
    if (typeof request !== 'object' || request === null || typeof request.purpose !== 'string') {
      throw optionsError('can(resourceId, { purpose, ... }): purpose is required')
    }
    const grants = (await this.grantsMine()).filter(g => g.resource === resourceId)
    const choice = chooseGrant(resourceGrantsOf(grants), {
      consumer: this.memberId, resourceId, purpose: request.purpose, fields: request.fields, userId: request.userId, caseRef: request.caseRef, now
    })
    if (isGrantRefusal(choice)) {
      const { code, message, grant } = choice
      return grant === undefined ? { allowed: false, code, message } : { allowed: false, code, message, grant }
    }
    return { allowed: true, grant: choice.grant, fields: (request.fields ?? choice.fields).slice() }
  }

  /** A bearer token for this member (cached; signed again shortly before it expires). */
  token (now = Date.now()): string {
    const cached = this.#token
    // a clock set back past iat would keep a token the gateway refuses as issued in the future
    if (cached !== undefined && now < cached.refreshAt && now >= cached.issuedAt) return cached.token
    const iat = Math.floor(now / 1000)
    const token = signJwt(this.#key, { iss: this.memberId, aud: this.gatewayId, iat, exp: iat + this.#ttlS, jti: randomUUID() })
    this.tokensSigned++
    // renew with a fifth of the lifetime (≥ 5 s) left, so a token never expires in flight
    this.#token = { token, issuedAt: iat * 1000, refreshAt: (iat + this.#ttlS - Math.max(5, Math.floor(this.#ttlS / 5))) * 1000 }
    return token
  }

  async close (): Promise<void> {
    await this.#ownPool?.close()
  }

  /** A GET of the API, or (with `exchange`) the POST of an envelope. */
  async #call (path: string, exchange?: Sending): Promise<unknown> {
    const signal = exchange?.signal
    const timeout = AbortSignal.timeout(positive(exchange?.timeoutMs, this.#timeoutMs, 'timeoutMs'))
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { authorization: 'Bearer ' + this.token() }
      if (exchange !== undefined) headers['content-type'] = 'application/json'
      // a fresh options object per attempt: wasSent() tells about this attempt only
      const opts: Dispatcher.RequestOptions = { origin: this.#origin, path, method: exchange === undefined ? 'GET' : 'POST', headers, body: exchange?.body, signal: combined }
      let res: Dispatcher.ResponseData
      try {
        res = await this.#dispatcher.request(opts)
      } catch (err) {
        const state = exchange === undefined ? undefined : { envelopeId: exchange.envelopeId, sent: wasSent(opts) }
        if (signal?.aborted === true) throw clientError('GOVEX_ERR_CLIENT_ABORTED', err, state)
        if (timeout.aborted) throw clientError('GOVEX_ERR_CLIENT_TIMEOUT', err, state)
        // a sent envelope may have been processed: PROTOCOL.md allows no resend of it
        if (state?.sent === true) throw clientError('GOVEX_ERR_CLIENT_OUTCOME_UNKNOWN', err, state)
        if (attempt < this.#retries && TRANSIENT.has(errorCode(err))) {
          await delay(50 * (attempt + 1))
          continue
        }
        throw clientError('GOVEX_ERR_CLIENT_NETWORK', err, state)
      }
      return await readAnswer(res, signal, timeout, exchange === undefined ? undefined : { envelopeId: exchange.envelopeId, sent: true })
    }
  }
}

/** Creates a consumer client; pass a ResourceMap type to get typed data. */
export function createClient<M extends ResourceMap = ResourceMap> (options: ClientOptions): GovexClient<M> {
  return new GovexClient<M>(options)
}

async function readAnswer (res: Dispatcher.ResponseData, signal: AbortSignal | undefined, timeout: AbortSignal, state: ExchangeState | undefined): Promise<unknown> {
  let parsed: unknown
  try {
    parsed = await res.body.json()
  } catch (err) {
    if (signal?.aborted === true) throw clientError('GOVEX_ERR_CLIENT_ABORTED', err, state, res.statusCode)
    if (timeout.aborted) throw clientError('GOVEX_ERR_CLIENT_TIMEOUT', err, state, res.statusCode)
    // the answer's head came and its body broke off: the answer is lost, not malformed
    if (!(err instanceof SyntaxError)) throw clientError(state === undefined ? 'GOVEX_ERR_CLIENT_NETWORK' : 'GOVEX_ERR_CLIENT_OUTCOME_UNKNOWN', err, state, res.statusCode)
    throw clientError('GOVEX_ERR_CLIENT_BAD_RESPONSE', err, state, res.statusCode)
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return parsed
  const e = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { code?: unknown, message?: unknown, requestId?: unknown, problems?: unknown }
  // JSON without a code is no gateway's verdict (a proxy's error, say)
  if (typeof e.code !== 'string') throw clientError('GOVEX_ERR_CLIENT_BAD_RESPONSE', typeof e.message === 'string' ? e.message : undefined, state, res.statusCode)
  const retryAfter = Number(res.headers['retry-after'])
  throw new GovexRequestError({
    code: e.code,
    message: typeof e.message === 'string' ? e.message : `the gateway answered ${res.statusCode}`,
    statusCode: res.statusCode,
    requestId: typeof e.requestId === 'string' ? e.requestId : headerString(res.headers['x-request-id']),
    problems: Array.isArray(e.problems) ? e.problems as Problem[] : undefined,
    retryAfterS: Number.isFinite(retryAfter) ? retryAfter : undefined
  })
}

/**
 * An SDK error. For an exchange the message says what the developer needs
 * next: whether the envelope was sent, and if so what to do instead of
 * resending it (PROTOCOL.md "Exchange").
 */
function clientError (code: SdkErrorCode, cause: unknown, state?: ExchangeState, statusCode?: number): GovexRequestError {
  const details = [statusCode === undefined ? '' : `status ${statusCode}`, cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : ''].filter(d => d !== '')
  let message = SDK_ERROR_CODES[code] + (details.length === 0 ? '' : ` (${details.join(': ')})`)
  if (state !== undefined) {
    const id = state.envelopeId
    message += state.sent
      ? `. Exchange ${id} was sent, so its outcome is unknown: the gateway may have processed it. Do not resend this envelope. To learn the outcome, ask your govex operator or auditor to look up envelope id ${id} in the audit log; for a new exchange, send a new envelope id.`
      : `. Exchange ${id} was not sent: it did not happen, and sending the same envelope again is safe.`
  }
  return new GovexRequestError({ code, message, statusCode, requestId: state?.envelopeId, outcomeUnknown: state?.sent ?? false, cause: cause instanceof Error ? cause : undefined })
}

function errorCode (err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : ''
}

function headerString (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function parseUrl (value: unknown): URL {
  try {
    const url = new URL(String(value))
    if (url.protocol === 'http:' || url.protocol === 'https:') return url
  } catch {}
  throw optionsError('gatewayUrl must be an http(s) URL, e.g. "http://127.0.0.1:8080"')
}

function positive (value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) throw optionsError(`${name} must be a positive number of milliseconds`)
  return value
}

function loadKey (key: PrivateJwk | string): PrivateJwk {
  let value: unknown = key
  if (typeof key === 'string') {
    try {
      value = JSON.parse(readFileSync(key, 'utf8'))
    } catch (err) {
      throw optionsError(`privateKey: cannot read a JWK from ${key}: ${(err as Error).message}`)
    }
  }
  const checked = validateSchema(PrivateJwk, value)
  if (!checked.ok) throw optionsError('privateKey must be an Ed25519 private JWK ({ kid, kty: "OKP", crv: "Ed25519", x, d }): ' + checked.problems.map(p => `${p.path} ${p.message}`).join('; '))
  return checked.value
}

function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
