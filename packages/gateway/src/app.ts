// buildGateway(): the Fastify application of PROTOCOL.md, not listening (tests
// call app.inject()). Opens the stores a config names unless given some, runs
// the bootstrap, loads members, catalog and active plan into memory and keeps
// them current, and wires every route. Decisions are core calls.
import { isUtf8 } from 'node:buffer'
import { randomUUID } from 'node:crypto'
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { MAX_JSON_DEPTH, createAjv, nestedBeyond, unrepresentable } from '@govex/core'
import type { Stores } from '@govex/core'
import type { LoggerOptions } from 'pino'
import type { ResolvedConfig } from './config.js'
import { openStores } from './stores.js'
import { loadGatewayKey } from './gateway-key.js'
import type { GatewayKey } from './gateway-key.js'
import { Runtime } from './runtime.js'
import { createMetrics } from './metrics.js'
import { Forwarder } from './forward.js'
import { AuditWriter } from './audit-writer.js'
import { createAuthenticator } from './auth.js'
import type { AuthMode } from './auth.js'
import { memberHook } from './access.js'
import { clientErrors, frameworkErrors, installHooks } from './hooks.js'
import { runBootstrap } from './bootstrap.js'
import { httpError } from './errors.js'
import type { GatewayContext } from './context.js'
import { exchangeRoutes } from './routes/exchange.js'
import { discoveryRoutes } from './routes/discovery.js'
import { registryRoutes } from './routes/registry.js'
import { planRoutes } from './routes/plans.js'
import { auditRoutes } from './routes/audit.js'
import { portalRoutes } from './routes/portal.js'
import { operationRoutes } from './routes/operations.js'
import { adoptEnvelopeId } from './request-state.js'

/** Bodies longer than this (in UTF-16 units) are parsed and checked over several turns of the event loop. */
const LARGE_BODY = 1024 * 1024

/** Longer than any legal id (a resource id is at most 193 characters). */
export const MAX_PARAM_LENGTH = 256

/**
 * Server timeouts against slow clients (slowloris): a request's headers and body
 * must arrive within REQUEST_TIMEOUT_MS (bodies are at most limits.bodyBytes),
 * and a socket silent for CONNECTION_TIMEOUT_MS is closed — longer than the
 * longest provider deadline a directory may set (endpoint.timeoutMs ≤ 600 s),
 * so a slow provider never costs the caller its connection.
 */
export const REQUEST_TIMEOUT_MS = 30_000
export const CONNECTION_TIMEOUT_MS = 660_000
/**
 * Below REQUEST_TIMEOUT_MS on purpose: Node's default headersTimeout (60 s)
 * above the requestTimeout Fastify sets makes Node cut a trickling request only
 * after ~90 s instead of 30-60 s (measured on Node 20).
 */
export const HEADERS_TIMEOUT_MS = 20_000

/** Log paths never written: credentials, keys, and any payload. */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization',
  'token', '*.token', 'key', '*.key', 'privateJwk', '*.privateJwk', 'd', '*.d',
  'body', '*.body', 'payload', '*.payload', 'data', '*.data'
]

export interface BuildGatewayOptions {
  config: ResolvedConfig
  /** stores to use instead of opening the configured ones; the caller closes them */
  stores?: Stores
  /** false (default): no logs; true: pino at config.log.level; pino options; or a pino logger */
  logger?: boolean | LoggerOptions | FastifyBaseLogger
  /** clock in epoch ms, for token times, plan validity and lifecycle instants */
  now?: () => number
  /** how tokens are verified; both give the same answers (see auth.ts) */
  auth?: AuthMode
  /** the gateway key; read from config.keyFile when absent */
  key?: GatewayKey
  /**
   * Redis down at start, then a bootstrap that fails once it answers (a bad
   * file): the gateway stays unready; startGateway stops the process (exit 1)
   */
  onFatal?: (err: unknown) => void
}

function isLogger (value: unknown): value is FastifyBaseLogger {
  return typeof value === 'object' && value !== null && typeof (value as { child?: unknown }).child === 'function' && typeof (value as { info?: unknown }).info === 'function'
}

function loggerOptions (options: BuildGatewayOptions): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  const { logger, config } = options
  if (logger === undefined || logger === false) return { logger: false }
  if (isLogger(logger)) return { loggerInstance: logger }
  const base: LoggerOptions = logger === true ? {} : logger
  return {
    logger: {
      level: config.log.level,
      ...base,
      redact: { paths: [...REDACT_PATHS, ...config.log.redact], censor: '[redacted]' }
    }
  }
}

/** Why a body is refused by the JSON parser, for the 400's problem list (only computed for refused bodies). */
function jsonProblem (request: FastifyRequest, text: string): Error {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    const reason = (err as Error).message
    return httpError('GOVEX_ERR_BAD_REQUEST', 'the body is not valid JSON: ' + reason, [{ code: 'json', path: '', message: 'is not valid JSON: ' + reason }])
  }
  // JSON, refused for prototype poisoning: it may still name its envelope id.
  adoptEnvelopeId(request.govex, value)
  const reason = 'it contains a __proto__ or constructor.prototype key, which is refused'
  return httpError('GOVEX_ERR_BAD_REQUEST', `the body cannot be used: ${reason}; remove or rename that key and send again`, [{ code: 'json', path: '', message: reason }])
}

export async function buildGateway (options: BuildGatewayOptions): Promise<FastifyInstance> {
  const { config } = options
  const now = options.now ?? Date.now
  const key = options.key ?? await loadGatewayKey(config.keyFile)
  const app = Fastify({
    ...loggerOptions(options),
    bodyLimit: config.limits.bodyBytes,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    genReqId: () => randomUUID(),
    // No child logger per request (a pino child costs ~10 µs): each line names its request
    // with reqId, which is the envelope id once the body shows one (hooks.ts requestIdOf).
    childLoggerFactory: logger => logger,
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors,
    clientErrorHandler: clientErrors,
    // a stopping gateway answers 503 GOVEX_ERR_UNAVAILABLE itself, in the PROTOCOL.md error body (hooks.ts)
    return503OnClosing: false,
    forceCloseConnections: 'idle'
  }) as unknown as FastifyInstance
  app.server.headersTimeout = HEADERS_TIMEOUT_MS
  const ownStores = options.stores === undefined
  try {
    const stores = options.stores ?? await openStores(config, app.log, key.signCheckpoint, { waitForRedis: true })
    // From here on, closing the app closes what it opened (the first onClose hook of assemble).
    await assemble(app, options, stores, key, now, ownStores)
    return app
  } catch (err) {
    await app.close().catch(() => {})
    throw err
  }
}

async function assemble (app: FastifyInstance, options: BuildGatewayOptions, stores: Stores, key: GatewayKey, now: () => number, ownStores: boolean): Promise<void> {
  const { config } = options
  const metrics = createMetrics()
  const runtime = new Runtime({ stores, log: app.log })
  const forwarder = new Forwarder({ connections: config.limits.upstreamConnections, allowHosts: config.upstream.allowHosts })
  const ctx: GatewayContext = { config, stores, runtime, metrics, forwarder, key, audit: new AuditWriter(stores.audit, metrics), now }

  app.addHook('onClose', async () => {
    runtime.close()
    await forwarder.close()
    await stores.audit.flush()
    if (ownStores) await stores.close()
  })

  let catalog = runtime.state.catalog
  runtime.onRebuild = state => {
    if (state.catalog !== catalog) {
      catalog = state.catalog
      const urls = new Set<string>()
      for (const entry of catalog.resources.values()) urls.add(entry.resource.endpoint.url)
      forwarder.retain(urls)
    }
    metrics.activePlanVersion.reset()
    if (state.plan !== null) metrics.activePlanVersion.set({ plan: state.plan.plan.id }, state.plan.plan.version)
  }
  runtime.onFatal = err => { options.onFatal?.(err) }
  runtime.watch()
  if (config.store.kind === 'redis') {
    // Redis down at start: the gateway starts anyway (readyz and every /v1 call 503) and loads once it answers
    await runtime.start(async () => { await runBootstrap(config, stores, app.log) })
  } else {
    await runBootstrap(config, stores, app.log)
    await runtime.refresh()
  }

  // Ajv as PROTOCOL.md configures it: nothing stripped, coerced or defaulted; every error.
  const ajv = createAjv()
  const validators = new WeakMap<object, ReturnType<typeof ajv.compile>>()
  app.setValidatorCompiler(({ schema }) => {
    let fn = validators.get(schema)
    if (fn === undefined) {
      // A schema with an $id may already be known as part of another one.
      const id = (schema as { $id?: unknown }).$id
      fn = (typeof id === 'string' ? ajv.getSchema(id) : undefined) ?? ajv.compile(schema)
      validators.set(schema, fn)
    }
    return fn
  })
  // Response schemas document the answers; bodies are serialised as they are, never trimmed by a schema.
  app.setSerializerCompiler(() => data => JSON.stringify(data))

  // JSON only: no text/plain parser, so anything but JSON is 415. An empty JSON body reads as no body.
  app.removeAllContentTypeParsers()
  const parseJson = app.getDefaultJsonParser('error', 'error')
  // Read as bytes: JSON text is UTF-8 (RFC 8259), and a string decoded by Fastify
  // would hold U+FFFD where the bytes were not — text nobody sent, forwarded and digested.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer
    if (bytes.length === 0) {
      done(null, undefined)
      return
    }
    if (!isUtf8(bytes)) {
      done(httpError('GOVEX_ERR_BAD_REQUEST', 'the body is not valid JSON: it is not UTF-8 text; send JSON encoded as UTF-8', [{ code: 'json', path: '', message: 'is not valid JSON: it is not UTF-8 text' }]))
      return
    }
    const text = bytes.toString('utf8')
    // A large body (a plan of many grants) is parsed, scanned and validated in
    // separate turns of the event loop, so exchanges are served between them.
    const large = text.length > LARGE_BODY
    parseJson(request, text, (err, value) => {
      if (err !== null) {
        done(jsonProblem(request, text))
        return
      }
      const check = (): void => {
        // Nothing thrown here may escape: in its own turn (a large body) it would end the process.
        let refusal: Error | undefined
        try {
          // Any depth parses; a fixed limit refuses the same body on every stack, before
          // any route holds it (an exchange: before its envelope id and quota are spent).
          const deep = nestedBeyond(value, MAX_JSON_DEPTH)
          // Lone surrogates and overflowing numbers parse, but no digest or audit record can hold them.
          const odd = deep === undefined ? unrepresentable(text, value) : undefined
          if (deep !== undefined) {
            adoptEnvelopeId(request.govex, value)
            refusal = httpError('GOVEX_ERR_BAD_REQUEST', `the body cannot be used: ${deep.path} ${deep.message} (the body itself is level 1); send it less deeply nested`, [{ code: 'too-deep', path: deep.path, message: deep.message }])
          } else if (odd !== undefined) {
            adoptEnvelopeId(request.govex, value)
            refusal = httpError('GOVEX_ERR_BAD_REQUEST', `the body cannot be used: ${odd.path === '' ? 'it' : odd.path} ${odd.message}`, [{ code: 'unrepresentable', path: odd.path, message: odd.message }])
          }
        } catch (err) {
          refusal = err instanceof Error ? err : new Error(String(err))
        }
        const answer = refusal === undefined ? () => { done(null, value) } : () => { done(refusal) }
        if (large) setImmediate(answer)
        else answer()
      }
      if (large) setImmediate(check)
      else check()
    })
  })

  const authenticator = await createAuthenticator(app, options.auth ?? 'lean', {
    runtime,
    audiences: config.audience === undefined ? [config.gatewayId] : [config.gatewayId, config.audience],
    now
  })
  installHooks(app, ctx, memberHook(authenticator, () => runtime.current))

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'govex gateway', version: '1', description: 'The govex protocol v1: information sharing between government agencies under an approved sharing plan.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (EdDSA, signed by the member key)' } } },
      security: [{ bearer: [] }]
    },
    // A schema with an $id (a core document: Member, PlanState, AuditRecord, ...)
    // is one named component, referenced wherever an answer holds it.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` }
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  await app.register(async v1 => {
    await v1.register(exchangeRoutes, { ctx })
    await v1.register(discoveryRoutes, { ctx })
    await v1.register(registryRoutes, { ctx })
    await v1.register(planRoutes, { ctx })
    await v1.register(auditRoutes, { ctx })
  })
  await app.register(portalRoutes, { ctx })
  await app.register(operationRoutes, { ctx })
}
