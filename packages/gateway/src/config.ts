// The gateway's configuration (MODEL.md "Gateway configuration"): read one JSON
// file, apply GOVEX_* environment overrides, validate with core's schema listing
// every problem, resolve relative paths against the file's folder, and fill the
// MODEL.md defaults in code (never into the file).
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { CONFIG_DEFAULTS, DEFAULT_CHECKPOINT_EVERY, GatewayConfig, GovexError, validateConfig } from '@govex/core'
import type { Problem } from '@govex/core'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface ResolvedFileStore {
  kind: 'file'
  /** absolute */
  dir: string
  /** absolute */
  spoolDir: string
}

export interface ResolvedRedisStore {
  kind: 'redis'
  url: string
  prefix: string
  /** absolute */
  spoolDir: string
}

export interface ResolvedLimits {
  bodyBytes: number
  upstreamBodyBytes: number
  upstreamTimeoutMs: number
  upstreamConnections: number
  replayWindowS: number
}

/** A validated config with absolute paths and every default filled in. */
export interface ResolvedConfig {
  /** absolute path of the file it was read from, or null when built from a value */
  file: string | null
  /** the folder relative paths were resolved against */
  dir: string
  gatewayId: string
  zone: 'extranet' | 'intranet'
  port: number
  host: string
  /** absolute path of the gateway's private JWK */
  keyFile: string
  /** the pool name accepted as `aud` besides the gateway id, if any */
  audience: string | undefined
  store: ResolvedFileStore | ResolvedRedisStore
  upstream: { allowHosts: string[] | undefined }
  bootstrap: { members: string | undefined, directories: string[], disclosures: string[] }
  limits: ResolvedLimits
  log: { level: LogLevel, redact: string[] }
  audit: { maxBatch: number | undefined, /** 0: no checkpoints */ checkpointEvery: number }
}

export const DEFAULT_REDIS_PREFIX = 'govex:'
export const DEFAULT_LOG_LEVEL: LogLevel = 'info'

/** A config that cannot be used: every problem, and a message that lists them. */
export class ConfigError extends GovexError {
  constructor (source: string, problems: Problem[], what = 'a usable gateway config') {
    const lines = problems.map(p => `  ${p.path === '' ? '(root)' : p.path}: ${p.message}`)
    super('GOVEX_ERR_INVALID_DOCUMENT', `${source} is not ${what}; fix these and start again:\n${lines.join('\n')}`, { problems })
    this.name = 'ConfigError'
  }
}

// ---- environment overrides ----

interface SchemaNode {
  type?: string | string[]
  const?: unknown
  properties?: Record<string, SchemaNode>
  anyOf?: SchemaNode[]
}

/** Every property name under each key path of the schema, unions merged. */
function childrenOf (node: SchemaNode | undefined): Map<string, SchemaNode[]> {
  const out = new Map<string, SchemaNode[]>()
  const visit = (n: SchemaNode | undefined): void => {
    if (n === undefined) return
    if (Array.isArray(n.anyOf)) n.anyOf.forEach(visit)
    for (const [name, child] of Object.entries(n.properties ?? {})) {
      const list = out.get(name)
      if (list === undefined) out.set(name, [child])
      else list.push(child)
    }
  }
  visit(node)
  return out
}

/** A key's name as a variable spells it: `bodyBytes` is BODY_BYTES. */
function upperSnake (key: string): string {
  return key.replace(/[A-Z]/g, c => '_' + c).toUpperCase()
}

/** Whether a key only ever holds text (so its variable is taken as written, never as JSON). */
function onlyText (nodes: SchemaNode[]): boolean {
  const text = (node: SchemaNode): boolean => Array.isArray(node.anyOf)
    ? node.anyOf.every(text)
    : node.type === 'string' || (node.type === undefined && typeof node.const === 'string')
  return nodes.length > 0 && nodes.every(text)
}

/** The key path a GOVEX_* variable names and its schema, or undefined when it names no config key. */
function keyPathOf (variable: string): { path: string[], nodes: SchemaNode[] } | undefined {
  const tokens = variable.slice('GOVEX_'.length).split('__')
  const path: string[] = []
  let nodes: SchemaNode[] = [GatewayConfig as unknown as SchemaNode]
  for (const token of tokens) {
    // Only the upper snake case spelling names a key (GOVEX_GATEWAY_ID, not GOVEX_gateway_id or GOVEX_GATEWAYID).
    let name: string | undefined
    const next: SchemaNode[] = []
    for (const node of nodes) {
      for (const [key, children] of childrenOf(node)) {
        if (upperSnake(key) !== token) continue
        name = key
        next.push(...children)
      }
    }
    if (name === undefined) return undefined
    path.push(name)
    nodes = next
  }
  return { path, nodes }
}

/** A string key takes the text as it is (GOVEX_STORE__PREFIX=1 is "1"); other keys read JSON, or text when it is not JSON. */
function parseValue (text: string, nodes: SchemaNode[]): unknown {
  if (onlyText(nodes)) return text
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The GOVEX_* variables that name a config key, with that key's path, in the order they apply. */
function overridesIn (env: NodeJS.ProcessEnv): Array<{ variable: string, value: string, path: string[], nodes: SchemaNode[] }> {
  const out: Array<{ variable: string, value: string, path: string[], nodes: SchemaNode[] }> = []
  // Sorted, so a whole-object override (GOVEX_STORE) applies before a key inside it (GOVEX_STORE__URL).
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith('GOVEX_')) continue
    const value = env[variable]
    if (value === undefined) continue
    const key = keyPathOf(variable)
    if (key !== undefined) out.push({ variable, value, ...key })
  }
  return out
}

/**
 * Applies GOVEX_<KEY_PATH> variables (`__` between levels) to a copy of the
 * raw config; variables that name no config key are ignored.
 */
export function applyEnvOverrides (raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (!isPlainObject(raw)) return raw
  const out = structuredClone(raw)
  for (const { value, path, nodes } of overridesIn(env)) {
    let target: Record<string, unknown> = out
    for (const key of path.slice(0, -1)) {
      const next = target[key]
      if (!isPlainObject(next)) target[key] = {}
      target = target[key] as Record<string, unknown>
    }
    target[path[path.length - 1] as string] = parseValue(value, nodes)
  }
  return out
}

/**
 * Problems of overridden keys name the variable that set them: the file may
 * hold a good value that a variable replaced.
 */
function blameVariables (problems: Problem[], env: NodeJS.ProcessEnv): Problem[] {
  const set = overridesIn(env).map(o => ({ variable: o.variable, pointer: '/' + o.path.join('/') }))
  if (set.length === 0) return problems
  return problems.map(problem => {
    // the deepest override at or above the problem set its value (GOVEX_STORE__URL over GOVEX_STORE)
    let by: string | undefined
    let depth = -1
    for (const { variable, pointer } of set) {
      if ((problem.path === pointer || problem.path.startsWith(pointer + '/')) && pointer.length > depth) {
        by = variable
        depth = pointer.length
      }
    }
    return by === undefined ? problem : { ...problem, message: `${problem.message} (the value comes from ${by})` }
  })
}

// ---- resolution ----

export interface ResolveOptions {
  /** the folder relative paths resolve against */
  dir: string
  /** the file the value came from, for messages */
  file?: string | null
  env?: NodeJS.ProcessEnv
}

/** Validates a raw config value (after env overrides) and resolves it. */
export function resolveConfig (raw: unknown, options: ResolveOptions): ResolvedConfig {
  const file = options.file ?? null
  const source = file ?? 'the gateway config'
  const value = applyEnvOverrides(raw, options.env ?? {})
  const checked = validateConfig(value)
  if (!checked.ok) throw new ConfigError(source, blameVariables(checked.problems, options.env ?? {}))
  const config = checked.value
  const allowHosts = config.upstream?.allowHosts

  const dir = resolve(options.dir)
  const path = (p: string): string => resolve(dir, p)
  const spoolDir = config.store.spoolDir === undefined ? resolve(dir, 'data', 'spool') : path(config.store.spoolDir)
  const store: ResolvedFileStore | ResolvedRedisStore = config.store.kind === 'file'
    ? { kind: 'file', dir: path(config.store.dir), spoolDir }
    : { kind: 'redis', url: config.store.url, prefix: config.store.prefix ?? DEFAULT_REDIS_PREFIX, spoolDir }
  const limits = config.limits ?? {}
  return {
    file,
    dir,
    gatewayId: config.gatewayId,
    zone: config.zone,
    port: config.port,
    host: config.host ?? CONFIG_DEFAULTS.host,
    keyFile: path(config.keyFile),
    audience: config.audience,
    store,
    upstream: { allowHosts: allowHosts === undefined ? undefined : [...allowHosts] },
    bootstrap: {
      members: config.bootstrap?.members === undefined ? undefined : path(config.bootstrap.members),
      directories: (config.bootstrap?.directories ?? []).map(path),
      disclosures: (config.bootstrap?.disclosures ?? []).map(path)
    },
    limits: {
      bodyBytes: limits.bodyBytes ?? CONFIG_DEFAULTS.bodyBytes,
      upstreamBodyBytes: limits.upstreamBodyBytes ?? CONFIG_DEFAULTS.upstreamBodyBytes,
      upstreamTimeoutMs: limits.upstreamTimeoutMs ?? CONFIG_DEFAULTS.upstreamTimeoutMs,
      upstreamConnections: limits.upstreamConnections ?? CONFIG_DEFAULTS.upstreamConnections,
      replayWindowS: limits.replayWindowS ?? CONFIG_DEFAULTS.replayWindowS
    },
    log: { level: (config.log?.level ?? DEFAULT_LOG_LEVEL) as LogLevel, redact: [...(config.log?.redact ?? [])] },
    audit: { maxBatch: config.audit?.maxBatch, checkpointEvery: config.audit?.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY }
  }
}

/** Reads, overrides, validates and resolves a config file. Throws ConfigError listing every problem. */
export async function loadConfig (file: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedConfig> {
  const absolute = resolve(file)
  let text: string
  try {
    text = await readFile(absolute, 'utf8')
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist; check the path' : (err as Error).message
    throw new ConfigError(absolute, [{ code: 'unreadable', path: '', message: reason }])
  }
  let raw: unknown
  try {
    raw = JSON.parse(text) as unknown
  } catch (err) {
    throw new ConfigError(absolute, [{ code: 'json', path: '', message: 'is not valid JSON: ' + (err as Error).message }])
  }
  return resolveConfig(raw, { dir: dirname(absolute), file: absolute, env })
}
