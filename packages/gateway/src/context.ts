// Everything the routes share, built once by buildGateway and handed to each
// route plugin: decisions stay in core, state in the runtime, I/O in the stores.
import type { Stores } from '@govex/core'
import type { ResolvedConfig } from './config.js'
import type { Runtime } from './runtime.js'
import type { GatewayMetrics } from './metrics.js'
import type { Forwarder } from './forward.js'
import type { GatewayKey } from './gateway-key.js'
import type { AuditWriter } from './audit-writer.js'

export interface GatewayContext {
  readonly config: ResolvedConfig
  readonly stores: Stores
  readonly runtime: Runtime
  readonly metrics: GatewayMetrics
  readonly forwarder: Forwarder
  readonly key: GatewayKey
  readonly audit: AuditWriter
  /** epoch ms */
  readonly now: () => number
}

export interface RouteOptions {
  ctx: GatewayContext
}
