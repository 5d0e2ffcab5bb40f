// MODEL.md "Directory" rules beyond the schema: ids prefixed by the agency and
// unique, item and query names unique, conditions for conditional sharing, and
// an http(s) endpoint on an allowed host.
import type { Directory, Resource } from '../schemas/directory.js'
import type { Problem } from '../problems.js'
import { pointer } from '../problems.js'
import { isHostAllowed } from '../hosts.js'

export interface DirectoryOptions {
  /** `upstream.allowHosts` of the config; undefined allows any host */
  allowHosts?: readonly string[] | undefined
}

function uniqueNames (list: readonly { name: string }[], base: string, code: string, what: string, problems: Problem[]): void {
  const seen = new Set<string>()
  list.forEach((entry, j) => {
    if (seen.has(entry.name)) {
      problems.push({ code, path: pointer(pointer(base, j), 'name'), message: `${what} "${entry.name}" is listed twice; rename or remove one` })
    }
    seen.add(entry.name)
  })
}

function endpointProblems (resource: Resource, base: string, options: DirectoryOptions, problems: Problem[]): void {
  const url = resource.endpoint.url
  const path = pointer(pointer(base, 'endpoint'), 'url')
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch {
    protocol = ''
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    problems.push({ code: 'endpoint-scheme', path, message: `endpoint "${url}" must be an http:// or https:// URL` })
  } else if (options.allowHosts !== undefined && !isHostAllowed(url, options.allowHosts)) {
    problems.push({ code: 'endpoint-host-not-allowed', path, message: `the host of "${url}" is not in upstream.allowHosts; use an allowed host or ask the operator to allow it` })
  }
}

export function directoryRules (directory: Directory, options: DirectoryOptions = {}): Problem[] {
  const problems: Problem[] = []
  const ids = new Set<string>()
  directory.resources.forEach((resource, i) => {
    const base = pointer('/resources', i)
    const idPath = pointer(base, 'id')
    // The schema guarantees `<member id>:<name>`.
    const colon = resource.id.indexOf(':')
    if (resource.id.slice(0, colon) !== directory.agency) {
      const name = resource.id.slice(colon + 1)
      problems.push({ code: 'resource-not-prefixed', path: idPath, message: `resource id "${resource.id}" must start with the directory's agency: write "${directory.agency}:${name}"` })
    }
    if (ids.has(resource.id)) {
      problems.push({ code: 'duplicate-resource', path: idPath, message: `resource "${resource.id}" is listed twice in this directory; give each resource its own id` })
    }
    ids.add(resource.id)
    uniqueNames(resource.items, pointer(base, 'items'), 'duplicate-item', 'data item', problems)
    if (resource.query !== undefined) uniqueNames(resource.query, pointer(base, 'query'), 'duplicate-query-param', 'query parameter', problems)
    if (resource.sharing.type === 'conditional' && (resource.sharing.conditions ?? '').trim() === '') {
      problems.push({ code: 'conditions-required', path: pointer(pointer(base, 'sharing'), 'conditions'), message: 'conditional sharing needs `conditions`: say under which conditions the data is shared' })
    }
    endpointProblems(resource, base, options, problems)
  })
  return problems
}
