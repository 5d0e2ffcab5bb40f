// Settings of the Redis server that would quietly break govex's promises,
// checked once at open and reported through onWarning (never fatal: a managed
// Redis may hide INFO, and a test Redis may run without persistence on purpose).
import type { Redis } from 'ioredis'

/** Warnings about the server's settings; empty when INFO is unavailable or all is well. */
export async function serverWarnings (client: Redis): Promise<string[]> {
  let info: string
  try {
    info = await client.info()
  } catch {
    return []
  }
  const fields = new Map<string, string>()
  for (const line of info.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1))
  }
  const warnings: string[] = []
  const policy = fields.get('maxmemory_policy')
  if (policy !== undefined && policy !== 'noeviction') {
    warnings.push(`Redis maxmemory-policy is ${policy}: it may evict audit records or replay claims; set maxmemory-policy noeviction`)
  }
  if (fields.get('aof_enabled') === '0') {
    warnings.push('Redis runs without the append-only file: audit records acknowledged shortly before a Redis crash can be lost; set appendonly yes')
  }
  return warnings
}
