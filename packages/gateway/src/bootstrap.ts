// Bootstrap (MODEL.md "Gateway configuration"): documents loaded at start into
// an empty store — the member list (the gateway's own member among them, role
// gateway), directories and disclosure catalogs. Each kind is loaded only when
// its store is empty, and never a plan: plans become active only through
// approval. Every document is validated as if it were submitted, and audited
// as an admin action of the gateway itself.
import { readFile } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { digestOf, parseDocument } from '@govex/core'
import type { AdminAction, AuditLog, Directory, DisclosureCatalog, Member, Problem, Stores } from '@govex/core'
import type { FastifyBaseLogger } from 'fastify'
import { ConfigError } from './config.js'
import type { ResolvedConfig } from './config.js'

export interface BootstrapReport {
  members: number
  directories: number
  disclosures: number
}

async function read (file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(file, [{ code: 'unreadable', path: '', message: (err as Error).message }], `a readable bootstrap ${what} file (config bootstrap)`)
  }
}

function fail (file: string, what: string, problems: Problem[]): never {
  throw new ConfigError(file, problems, `a valid ${what} document (config bootstrap)`)
}

async function record (audit: AuditLog, actor: string, action: AdminAction, target: string, digest: string): Promise<void> {
  await audit.append({ kind: 'admin', id: randomUUID(), actor, action, target, digest, outcome: 'allowed', code: null, status: 200 })
}

/**
 * Loads the configured bootstrap files into whichever stores are empty. Every
 * file is read and validated before anything is written, so a bad file leaves
 * the store as it was.
 */
export async function runBootstrap (config: ResolvedConfig, stores: Stores, log: FastifyBaseLogger): Promise<BootstrapReport> {
  const { bootstrap, gatewayId } = config
  const [members, directories, disclosures] = await Promise.all([
    bootstrap.members !== undefined ? stores.members.list() : [],
    bootstrap.directories.length > 0 ? stores.directories.list() : [],
    bootstrap.disclosures.length > 0 ? stores.disclosures.list() : []
  ])

  const newMembers: Member[] = []
  if (bootstrap.members !== undefined && members.length === 0) {
    const file = bootstrap.members
    const result = parseDocument('members', await read(file, 'members'))
    if (!result.ok) fail(file, 'members', result.problems)
    newMembers.push(...result.value)
    const self = newMembers.find(m => m.id === gatewayId)
    if (self === undefined || !self.roles.includes('gateway')) {
      log.warn({ file }, `the bootstrap members do not include ${gatewayId} with role gateway; providers need its public key`)
    }
  }
  const newDirectories: Directory[] = []
  if (directories.length === 0) {
    for (const file of bootstrap.directories) {
      const result = parseDocument('directory', await read(file, 'directory'), { allowHosts: config.upstream.allowHosts })
      if (!result.ok) fail(file, 'directory', result.problems)
      newDirectories.push(result.value)
    }
  }
  const newDisclosures: DisclosureCatalog[] = []
  if (disclosures.length === 0) {
    for (const file of bootstrap.disclosures) {
      const result = parseDocument('disclosure', await read(file, 'disclosure'))
      if (!result.ok) fail(file, 'disclosure', result.problems)
      newDisclosures.push(result.value)
    }
  }

  // Audited as admin actions of the gateway itself, so the log says where the first documents came from.
  for (const member of newMembers) {
    await stores.members.put(member)
    await record(stores.audit, gatewayId, 'member.put', member.id, digestOf(member))
  }
  for (const directory of newDirectories) {
    await stores.directories.put(directory)
    await record(stores.audit, gatewayId, 'directory.put', directory.agency, digestOf(directory))
  }
  for (const catalog of newDisclosures) {
    await stores.disclosures.put(catalog)
    await record(stores.audit, gatewayId, 'disclosure.put', catalog.agency, digestOf(catalog))
  }
  const report: BootstrapReport = { members: newMembers.length, directories: newDirectories.length, disclosures: newDisclosures.length }
  if (report.members + report.directories + report.disclosures > 0) log.info({ bootstrap: report }, 'bootstrapped the empty store')
  return report
}
