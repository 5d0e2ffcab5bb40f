// Loading a gateway config for the commands that need one (start, audit, lint):
// the gateway's own loader, so env overrides and relative paths behave the same.
import { loadConfig } from '@govex/gateway'
import type { Context } from './context.js'
import { pathOf } from './context.js'
import { CliError } from './errors.js'

export type ResolvedConfig = Awaited<ReturnType<typeof loadConfig>>

export async function loadConfigFor (ctx: Context, file: string | undefined): Promise<ResolvedConfig> {
  if (file === undefined) throw new CliError('pass --config <govex.config.json> (the gateway config whose store to open)')
  return await loadConfig(pathOf(ctx, file), ctx.io.env)
}
