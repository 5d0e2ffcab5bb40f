// Which upstream hosts a provider endpoint may point at (config `upstream.allowHosts`).
// Directory validation and the gateway (against SSRF) share this one check, so a
// URL accepted into a directory is a URL the gateway will forward to.
import { BlockList, isIP } from 'node:net'
import type { Problem } from './problems.js'
import { pointer } from './problems.js'

interface HostMatcher {
  names: ReadonlySet<string>
  addresses: BlockList
}

// allowHosts comes from the config and is compiled once per array, not per request.
const matchers = new WeakMap<readonly string[], HostMatcher>()

/** A hostname as compared: lowercase, without the trailing dot of a fully qualified name. */
function hostName (entry: string): string {
  const name = entry.trim().toLowerCase()
  return name.endsWith('.') ? name.slice(0, -1) : name
}

type Entry = { kind: 'name', name: string } | { kind: 'ip', address: string, family: 'ipv4' | 'ipv6' } |
{ kind: 'cidr', address: string, prefix: number, family: 'ipv4' | 'ipv6' } | { kind: 'invalid', reason: string }

const NAME_RE = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/

function parseEntry (raw: string): Entry {
  const entry = raw.trim()
  const slash = entry.indexOf('/')
  if (slash >= 0) {
    const address = entry.slice(0, slash)
    const bits = entry.slice(slash + 1)
    const version = isIP(address)
    const max = version === 6 ? 128 : 32
    if (version === 0) return { kind: 'invalid', reason: 'the part before "/" is not an IP address' }
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return { kind: 'invalid', reason: `the prefix length must be 0 to ${max}` }
    return { kind: 'cidr', address, prefix: Number(bits), family: version === 6 ? 'ipv6' : 'ipv4' }
  }
  const bare = entry.startsWith('[') && entry.endsWith(']') ? entry.slice(1, -1) : entry
  const version = isIP(bare)
  if (version !== 0) return { kind: 'ip', address: bare, family: version === 6 ? 'ipv6' : 'ipv4' }
  const name = hostName(entry)
  if (!NAME_RE.test(name)) return { kind: 'invalid', reason: 'it is neither a hostname, an IP address nor a CIDR (no scheme, port or path)' }
  return { kind: 'name', name }
}

function compile (allowHosts: readonly string[]): HostMatcher {
  let matcher = matchers.get(allowHosts)
  if (matcher !== undefined) return matcher
  const names = new Set<string>()
  const addresses = new BlockList()
  for (const raw of allowHosts) {
    // An entry that cannot be read allows nothing: fail closed, and allowHostsProblems() says why.
    const entry = parseEntry(String(raw))
    if (entry.kind === 'name') names.add(entry.name)
    else if (entry.kind === 'ip') addresses.addAddress(entry.address, entry.family)
    else if (entry.kind === 'cidr') addresses.addSubnet(entry.address, entry.prefix, entry.family)
  }
  matcher = { names, addresses }
  matchers.set(allowHosts, matcher)
  return matcher
}

/** Problems of an `upstream.allowHosts` list, for config validation (`basePath` points at the list). */
export function allowHostsProblems (allowHosts: readonly string[], basePath = ''): Problem[] {
  const problems: Problem[] = []
  allowHosts.forEach((raw, i) => {
    const entry = parseEntry(String(raw))
    if (entry.kind === 'invalid') {
      problems.push({ code: 'invalid-host', path: pointer(basePath, i), message: `"${String(raw)}" is not usable: ${entry.reason}; write a hostname (api.example.gov), an IP (10.0.0.5, ::1) or a CIDR (10.0.0.0/8)` })
    }
  })
  return problems
}

/**
 * True when `url` is an http(s) URL whose host is allowed: a hostname listed
 * exactly (case-insensitive), or an IP listed or inside a listed CIDR.
 * `allowHosts` undefined allows any host (the scheme is still checked).
 * Names are compared as written: a listed name that resolves to an internal
 * address is the operator's choice, and IPs in the URL are compared as IPs
 * (WHATWG URL normalises forms such as `0x7f.1` to `127.0.0.1` first).
 */
export function isHostAllowed (url: string, allowHosts: readonly string[] | undefined): boolean {
  return hostRefusal(url, allowHosts) === undefined
}

/**
 * Why isHostAllowed() refuses `url`, in an operator's terms, or undefined when
 * it allows it. Names the host, never the whole URL (its path, query or user
 * part may hold what a log should not).
 */
export function hostRefusal (url: string, allowHosts: readonly string[] | undefined): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'it is not a valid URL'
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `its scheme ${parsed.protocol} is neither http: nor https:`
  if (allowHosts === undefined) return undefined
  const matcher = compile(allowHosts)
  let host = parsed.hostname
  if (host.startsWith('[')) host = host.slice(1, -1)
  const version = isIP(host)
  const allowed = version !== 0 ? matcher.addresses.check(host, version === 6 ? 'ipv6' : 'ipv4') : matcher.names.has(hostName(host))
  return allowed ? undefined : `its host ${parsed.hostname} is not in upstream.allowHosts of the config (a directory stored before the list was tightened, or by a gateway with another config): add the host there, or have the agency move the endpoint`
}
