// `govex init <dir>`: a ready deployment folder (config, keys, members, example
// directories and disclosures, a draft plan) that passes `govex lint` and starts.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { isMemberId } from '@govex/core'
import type { Member } from '@govex/core'
import type { Context } from '../context.js'
import { displayPath, govexCommand, json, out, pathOf } from '../context.js'
import { CliError } from '../errors.js'
import { writeJson } from '../files.js'
import { generateKeyFiles } from '../keyfiles.js'
import { deploymentIds, exampleConfig, exampleDirectories, exampleDisclosures, examplePlan, memberSpecs } from '../deployment.js'

export interface InitResult {
  dir: string
  config: string
  files: string[]
  members: Array<{ id: string, roles: string[], privateKeyFile: string }>
}

async function isEmpty (dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw new CliError(`${dir} is a file; give a folder for the deployment`)
    throw e
  }
}

export async function initDeployment (dir: string, options: { prefix?: string, force?: boolean, now?: Date } = {}): Promise<InitResult> {
  const prefix = options.prefix ?? 'city'
  if (!isMemberId(prefix) || prefix.length > 64) throw new CliError(`--prefix "${prefix}" is not a member id prefix (a dotted lowercase path such as tj)`)
  const force = options.force === true
  if (!force && !(await isEmpty(dir))) throw new CliError(`${dir} is not empty; choose a new folder or pass --force to write into it`)
  const now = options.now ?? new Date()
  const ids = deploymentIds(prefix)
  const written: string[] = []

  const members: Member[] = []
  const keyFiles: InitResult['members'] = []
  for (const spec of memberSpecs(ids)) {
    const k = await generateKeyFiles(spec.id, join(dir, 'keys'), { force })
    written.push(k.privateFile, k.publicFile)
    members.push({ id: spec.id, name: spec.name, roles: spec.roles, keys: [k.publicJwk] })
    keyFiles.push({ id: spec.id, roles: spec.roles, privateKeyFile: k.privateFile })
  }
  const write = async (name: string, value: unknown): Promise<string> => {
    const file = join(dir, name)
    await writeJson(file, value, { force })
    written.push(file)
    return './' + name
  }

  const membersFile = await write('members.json', members)
  const directories: string[] = []
  for (const d of exampleDirectories(ids)) directories.push(await write(`directories/${d.agency}.json`, d))
  const disclosures: string[] = []
  for (const d of exampleDisclosures(ids, now.toISOString().slice(0, 10))) disclosures.push(await write(`disclosures/${d.agency}.json`, d))
  await write('plan.json', examplePlan(prefix, ids, now))
  const config = exampleConfig(ids, { keyFile: `./keys/${ids.gateway}.key.json`, members: membersFile, directories, disclosures })
  await write('govex.config.json', config)
  return { dir, config: join(dir, 'govex.config.json'), files: written, members: keyFiles }
}

export function registerInit (program: Command, ctx: Context): void {
  program.command('init')
    .description('make a ready deployment folder: config, keys for a gateway, an operator, an approver, an auditor and two agencies, members, example directories, a draft plan')
    .argument('<dir>', 'folder to create (must be empty unless --force)')
    .option('--prefix <id>', 'member id prefix of the deployment', 'city')
    .option('--force', 'write into a non-empty folder, replacing files of the same name')
    .option('--json', 'print what was written as JSON')
    .addHelpText('after', `
Example:
  $ govex init ./my-exchange
  $ govex lint --config ./my-exchange/govex.config.json ./my-exchange/plan.json
  $ govex start --config ./my-exchange/govex.config.json`)
    .action(async (dirArg: string, opts: { prefix: string, force?: boolean, json?: boolean }) => {
      const dir = pathOf(ctx, dirArg)
      const result = await initDeployment(dir, { prefix: opts.prefix, force: opts.force === true })
      if (opts.json === true) {
        json(ctx, result)
        return
      }
      const rel = (f: string): string => displayPath(ctx, f)
      const ids = deploymentIds(opts.prefix)
      out(ctx, `wrote a deployment to ${rel(dir)}:`)
      out(ctx, `  ${rel(result.config)}  gateway ${ids.gateway}, zone extranet, port 8080, file store ./data`)
      out(ctx, `  ${rel(join(dir, 'members.json'))}  ${result.members.map(m => `${m.id} (${m.roles.join(',')})`).join(', ')}`)
      out(ctx, `  ${rel(join(dir, 'keys'))}/  private keys <id>.key.json (mode 0600) and public keys <id>.pub.json`)
      out(ctx, `  ${rel(join(dir, 'directories'))}/, ${rel(join(dir, 'disclosures'))}/  example documents of ${ids.provider} and ${ids.consumer}`)
      out(ctx, `  ${rel(join(dir, 'plan.json'))}  a draft sharing plan to create, approve and activate`)
      out(ctx, '')
      // as the user ran this command: `pnpm govex` through the repository's script
      const govex = govexCommand(ctx)
      out(ctx, 'Next:')
      out(ctx, `  ${govex} lint --config ${rel(result.config)} ${rel(join(dir, 'plan.json'))}`)
      out(ctx, `  ${govex} start --config ${rel(result.config)}`)
    })
}
