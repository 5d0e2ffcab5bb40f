// Every problem of a gateway config value (MODEL.md "Gateway configuration":
// validated at start with every problem listed), after env overrides: the
// schema's, with a store checked against its own kind, and the
// `upstream.allowHosts` entries that cannot be read, even when other keys fail.
import type { Problem } from '../problems.js'
import { validateSchema } from '../validate.js'
import { FileStoreConfig, GatewayConfig, RedisStoreConfig } from '../schemas/config.js'
import { allowHostsProblems } from '../hosts.js'

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The store problems of a config whose `store.kind` names one of the two
 * kinds: that kind's own, not the union's (a file store missing `dir` is not
 * also told it lacks `url` and should be "redis").
 */
function storeProblems (store: unknown): Problem[] | undefined {
  if (!isPlainObject(store)) return undefined
  const schema = store.kind === 'file' ? FileStoreConfig : store.kind === 'redis' ? RedisStoreConfig : undefined
  if (schema === undefined) return undefined
  const checked = validateSchema(schema, store)
  return checked.ok ? [] : checked.problems.map(p => ({ ...p, path: '/store' + p.path }))
}

export function configProblems (value: unknown): Problem[] {
  const checked = validateSchema(GatewayConfig, value)
  let problems: Problem[] = checked.ok ? [] : checked.problems
  const store = isPlainObject(value) ? storeProblems(value.store) : undefined
  if (store !== undefined) problems = [...problems.filter(p => p.path !== '/store' && !p.path.startsWith('/store/')), ...store]
  const upstream = isPlainObject(value) ? value.upstream : undefined
  const hosts = isPlainObject(upstream) ? upstream.allowHosts : undefined
  if (Array.isArray(hosts)) {
    // an entry the schema already refuses (not text, too long) is not read as a host as well
    const refused = new Set(problems.map(p => p.path))
    problems.push(...allowHostsProblems(hosts.map(String), '/upstream/allowHosts').filter(p => !refused.has(p.path)))
  }
  return problems
}
