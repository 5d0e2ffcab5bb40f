// `govex start --config <file>`: run a gateway until SIGINT/SIGTERM, then close
// it cleanly (in-flight requests answered, the audit log flushed).
import type { Command } from 'commander'
import type { Context } from '../context.js'
import { stopRequest } from '../io.js'
import { loadConfigFor } from '../config.js'
import { gatewayLogger } from '../logging.js'
import { CliError } from '../errors.js'
import type { StartOptions } from '@govex/gateway'

export function registerStart (program: Command, ctx: Context): void {
  program.command('start')
    .description('run a gateway; logs pino JSON (pretty on a terminal); stops cleanly on SIGINT/SIGTERM, flushing the audit log')
    .requiredOption('--config <file>', 'gateway config (govex.config.json); GOVEX_* variables override its keys')
    .addHelpText('after', `
Examples:
  $ govex start --config ./my-exchange/govex.config.json
  $ GOVEX_PORT=8090 GOVEX_LOG__LEVEL=debug govex start --config govex.config.json
Relative paths in the config resolve against the config file's folder.
GOVEX_LOG_FORMAT=json keeps JSON logs on a terminal.`)
    .action(async (opts: { config: string }) => {
      // from the first moment: a signal while the gateway starts (a second or
      // more: imports, store, bootstrap) lets the start finish, then stops it;
      // stderr says so at once, and a second signal exits at once (io.ts)
      const stop = stopRequest(ctx.io, 'the gateway')
      let gateway
      const logger = gatewayLogger(ctx.io)
      try {
        const config = await loadConfigFor(ctx, opts.config)
        const { startGateway } = await import('@govex/gateway')
        try {
          // our own signal handling: run() returns and the process ends by itself
          // Fastify takes `stream` among its logger options; pino's LoggerOptions type does not list it
          gateway = await startGateway(config, { logger: logger.options as StartOptions['logger'], signals: false })
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
            throw new CliError(`${config.host}:${config.port} is already in use; stop what listens there, or set another port (GOVEX_PORT=8090 or "port" in ${opts.config})`)
          }
          throw e
        }
      } catch (e) {
        stop.release()
        await logger.close()
        throw e
      }
      stop.started()
      const signal = await stop.stopped
      try {
        gateway.app.log.info({ signal }, 'stopping: finishing in-flight requests, flushing the audit log')
        await gateway.close()
        gateway.app.log.info('stopped')
        await logger.close()
      } finally {
        stop.release()
      }
    })
}
