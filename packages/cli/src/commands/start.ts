// `govex start --config <file>`: run a gateway until SIGINT/SIGTERM, then close
// it cleanly (in-flight requests answered, the audit log flushed).
import type { Command } from 'commander'
import type { Context } from '../context.js'
import { err } from '../context.js'
import { untilStopped } from '../io.js'
import { loadConfigFor } from '../config.js'

export function registerStart (program: Command, ctx: Context): void {
  program.command('start')
    .description('run a gateway; logs pino JSON (pretty on a terminal); stops cleanly on SIGINT/SIGTERM, flushing the audit log')
    .requiredOption('--config <file>', 'gateway config (govex.config.json); GOVEX_* variables override its keys')
    .addHelpText('after', `
Examples:
  $ govex start --config ./my-exchange/govex.config.json
  $ GOVEX_PORT=8090 GOVEX_LOG__LEVEL=debug govex start --config govex.config.json
Relative paths in the config resolve against the config file's folder.`)
    .action(async (opts: { config: string }) => {
      const config = await loadConfigFor(ctx, opts.config)
      const { startGateway } = await import('@govex/gateway')
      const gateway = await startGateway(config)
      err(ctx, `govex gateway ${config.gatewayId} listening on ${gateway.url} (zone ${config.zone}); Ctrl-C to stop`)
      const signal = await untilStopped(ctx.io)
      err(ctx, `${signal}: stopping, flushing the audit log…`)
      await gateway.close()
      err(ctx, 'stopped')
    })
}
