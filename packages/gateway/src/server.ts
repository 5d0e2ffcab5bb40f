// startGateway(): buildGateway() listening on the configured host and port,
// with a graceful stop on SIGINT/SIGTERM: stop accepting, let in-flight
// exchanges finish, flush the audit log, close the provider pools and the
// stores, then exit.
import { ed25519Backend } from './ed25519.js'
import type { FastifyInstance } from 'fastify'
import { buildGateway } from './app.js'
import type { BuildGatewayOptions } from './app.js'
import type { ResolvedConfig } from './config.js'

export interface RunningGateway {
  app: FastifyInstance
  /** the base URL it listens on, e.g. http://127.0.0.1:8080 */
  url: string
  /** stops it gracefully (and removes the signal handlers); idempotent */
  close (): Promise<void>
}

export interface StartOptions extends Omit<BuildGatewayOptions, 'config'> {
  /** install SIGINT/SIGTERM handlers that stop and exit (default true) */
  signals?: boolean
  /** exit the process after a signal-initiated stop (default true) */
  exit?: boolean
}

export async function startGateway (config: ResolvedConfig, options: StartOptions = {}): Promise<RunningGateway> {
  let stop: (() => Promise<void>) | undefined
  const onFatal = (err: unknown): void => {
    options.onFatal?.(err)
    // a start that cannot succeed ends the process, so a supervisor sees it fail
    void (stop?.() ?? Promise.resolve()).finally(() => { if (options.exit !== false) process.exit(1) })
  }
  const app = await buildGateway({ logger: true, ...options, config, onFatal })
  let url: string
  try {
    url = await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    await app.close()
    throw err
  }
  let closing: Promise<void> | null = null
  let onSignal: ((signal: NodeJS.Signals) => void) | null = null
  const close = async (): Promise<void> => {
    if (onSignal !== null) {
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
      onSignal = null
    }
    closing ??= app.close().then(() => {})
    await closing
  }
  stop = close
  if (options.signals !== false) {
    onSignal = (signal: NodeJS.Signals): void => {
      app.log.info({ signal }, 'stopping: finishing in-flight requests, flushing the audit log')
      close().then(() => {
        app.log.info('stopped')
        if (options.exit !== false) process.exit(0)
      }, (err: unknown) => {
        app.log.error({ err }, 'could not stop cleanly')
        if (options.exit !== false) process.exit(1)
      })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
  app.log.info({ url, gatewayId: config.gatewayId, zone: config.zone, store: config.store.kind, signer: ed25519Backend }, 'gateway listening')
  return { app, url, close }
}
