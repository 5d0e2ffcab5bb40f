// Gateway configuration (MODEL.md "Gateway configuration"): one file, validated
// at start with every problem listed, each key overridable by a GOVEX_* variable.
import { Type, type Static } from '@sinclair/typebox'
import { MemberId } from './common.js'

const Path = Type.String({ minLength: 1, maxLength: 4096 })

export const FileStoreConfig = Type.Object({
  kind: Type.Literal('file'),
  dir: Path,
  spoolDir: Type.Optional(Path)
}, { additionalProperties: false })

export const RedisStoreConfig = Type.Object({
  kind: Type.Literal('redis'),
  url: Type.String({ pattern: '^(rediss?|redis-sentinel)://', maxLength: 2048 }),
  prefix: Type.Optional(Type.String({ maxLength: 128 })),
  spoolDir: Type.Optional(Path)
}, { additionalProperties: false })

export const StoreConfig = Type.Union([FileStoreConfig, RedisStoreConfig])
export type StoreConfig = Static<typeof StoreConfig>

export const GatewayConfig = Type.Object({
  gatewayId: MemberId,
  zone: Type.Union([Type.Literal('extranet'), Type.Literal('intranet')]),
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  host: Type.Optional(Type.String({ maxLength: 255 })),
  keyFile: Path,
  store: StoreConfig,
  audience: Type.Optional(MemberId),
  upstream: Type.Optional(Type.Object({
    allowHosts: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 1000 }))
  }, { additionalProperties: false })),
  bootstrap: Type.Optional(Type.Object({
    members: Type.Optional(Path),
    directories: Type.Optional(Type.Array(Path, { maxItems: 10_000 })),
    disclosures: Type.Optional(Type.Array(Path, { maxItems: 10_000 }))
  }, { additionalProperties: false })),
  limits: Type.Optional(Type.Object({
    bodyBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024 })),
    upstreamBodyBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 8 * 1024 * 1024 * 1024 })),
    upstreamTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 })),
    upstreamConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    replayWindowS: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 * 86400 }))
  }, { additionalProperties: false })),
  log: Type.Optional(Type.Object({
    level: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)))),
    redact: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 100 }))
  }, { additionalProperties: false })),
  audit: Type.Optional(Type.Object({
    /** records per fsync batch cap; the batch is whatever arrived while the last fsync ran */
    maxBatch: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    /** a signed checkpoint after every this many records (default 0: none; the operator guide suggests 1000) */
    checkpointEvery: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 }))
  }, { additionalProperties: false }))
}, { additionalProperties: false, $id: 'GatewayConfig' })
export type GatewayConfig = Static<typeof GatewayConfig>

/** MODEL.md defaults, applied in code (never written into the file). */
export const CONFIG_DEFAULTS = {
  host: '127.0.0.1',
  bodyBytes: 1024 * 1024,
  upstreamBodyBytes: 10 * 1024 * 1024,
  upstreamTimeoutMs: 5000,
  upstreamConnections: 64,
  replayWindowS: 86400
} as const
