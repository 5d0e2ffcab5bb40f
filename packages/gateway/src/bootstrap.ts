// Bootstrap (MODEL.md "Gateway configuration"): documents loaded at start into
// an empty store — the member list (the gateway's own member among them, role
// gateway), directories and disclosure catalogs. Each kind is loaded only when
// its store is empty, and never a plan: plans become active only through
// approval. Every document is validated as if it were submitted, and audited
// as an admin action of the gateway itself.
import { readFile } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { digestOf, parseDocument } from '@govex/core'
import type { AdminAction, AuditLog, Problem, Stores } from '@govex/core'
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

/** Loads the configured bootstrap files into whichever stores are empty. */
export async function runBootstrap (config: ResolvedConfig, stores: Stores, log: FastifyBaseLogger): Promise<BootstrapReport> {
  const report: BootstrapReport = { members: 0, directories: 0, disclosures: 0 }
  const { bootstrap, gatewayId } = config
  const actor = gatewayId

  if (bootstrap.members !== undefined && (await stores.members.list()).length === 0) {
    const file = bootstrap.members
    const result = parseDocument('members', await read(file, 'members'))
    if (!result.ok) fail(file, 'members', result.problems)
    const self = result.value.find(m => m.id === gatewayId)
    if (self === undefined || !self.roles.includes('gateway')) {
      log.warn({ file }, `the bootstrap members do not include ${gatewayId} with role gateway; providers need its public key`)
    }
    for (const member of result.value) {
      await stores.members.put(member)
      await record(stores.audit, actor, 'member.put', member.id, digestOf(member))
    }
    report.members = result.value.length
  }

  if (bootstrap.directories.length > 0 && (await stores.directories.list()).length === 0) {
    // Validate all first, so a bad file leaves the store as it was.
    const directories = []
    for (const file of bootstrap.directories) {
      const result = parseDocument('directory', await read(file, 'directory'), { allowHosts: config.upstream.allowHosts })
      if (!result.ok) fail(file, 'directory', result.problems)
      directories.push(result.value)
    }
    for (const directory of directories) {
      await stores.directories.put(directory)
      await record(stores.audit, actor, 'directory.put', directory.agency, digestOf(directory))
    }
    report.directories = directories.length
  }

  if (bootstrap.disclosures.length > 0 && (await stores.disclosures.list()).length === 0) {
    const catalogs = []
    for (const file of bootstrap.disclosures) {
      const result = parseDocument('disclosure', await read(file, 'disclosure'))
      if (!result.ok) fail(file, 'disclosure', result.problems)
      catalogs.push(result.value)
    }
    for (const catalog of catalogs) {
      await stores.disclosures.put(catalog)
      await record(stores.audit, actor, 'disclosure.put', catalog.agency, digestOf(catalog))
    }
    report.disclosures = catalogs.length
  }

  if (report.members + report.directories + report.disclosures > 0) log.info({ bootstrap: report }, 'bootstrapped the empty store')
  return report
}
