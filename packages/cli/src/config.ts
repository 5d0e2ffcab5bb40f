// Loading a gateway config for the commands that need one (start, audit, demo):
// the gateway's own loader, so env overrides and relative paths behave the same.
// @govex/gateway is imported on first use: `govex token` need not load Fastify.
import type { loadConfig } from '@govex/gateway'
import type { Context } from './context.js'
import { pathOf } from './context.js'
import { CliError } from './errors.js'

export type ResolvedConfig = Awaited<ReturnType<typeof loadConfig>>

export async function loadConfigFor (ctx: Context, file: string | undefined): Promise<ResolvedConfig> {
  if (file === undefined) throw new CliError('pass --config <govex.config.json> (the gateway config whose store to open)')
  const gateway = await import('@govex/gateway')
  return await gateway.loadConfig(pathOf(ctx, file), ctx.io.env)
}
