// `govex demo`: the newcomer's one command. Prepares the Tianjin example, starts
// its providers and a gateway on a fresh data folder, walks the plan through
// draft → approved → active as operator and approver, runs allowed and refused
// exchanges, verifies the audit chain, then prints curl lines to try by hand.
import { createGatewayVerifier } from '@govex/sdk'
import { randomUUID } from 'node:crypto'
import { access, mkdir, readdir, rm } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Command } from 'commander'
import { digestOf, folderLockHolder, isGovexError, lockFolder, LOCK_FILE, planDocument, signApproval } from '@govex/core'
import type { FolderLock, Member, Plan, PrivateJwk } from '@govex/core'
import type { startGateway, StartOptions } from '@govex/gateway'
import { gatewayLogger } from '../logging.js'
import type { Context } from '../context.js'
import { displayPath, govexCommand, out, pathOf } from '../context.js'
import { CliError } from '../errors.js'
import { stopRequest } from '../io.js'
import type { StopRequest } from '../io.js'
import { loadConfigFor } from '../config.js'
import type { ResolvedConfig } from '../config.js'
import { readPrivateJwk } from '../keyfiles.js'
import { isPortFree, parsePort } from '../ports.js'
import { Actor, errorOf } from '../http.js'
import type { Answer } from '../http.js'
import { TIANJIN_EXCHANGES, TRY_IT_EXCHANGE } from '../demo-scenario.js'
import { readPlan } from './plan.js'

/** examples/tianjin of this repository, from src/commands or dist/commands alike. */
export const DEFAULT_EXAMPLE = fileURLToPath(new URL('../../../../examples/tianjin', import.meta.url))

interface ExampleSetup {
  setupExample (options: { dir: string, log: (line: string) => void }): Promise<{ members: Member[], generated: string[], keysDir: string }>
}
interface ProvidersHandle { close (): Promise<void>, ports: Record<string, number> }
type CallVerifier = ReturnType<typeof createGatewayVerifier>
interface ExampleProviders {
  PROVIDERS: Array<{ agency: string, port: number }>
  startProviders (options: { log: (line: string) => void, verifierFor?: (agency: string) => CallVerifier }): PromiseLike<ProvidersHandle>
  gatewayVerifiers?: (factory: typeof createGatewayVerifier, dir: string) => (agency: string) => CallVerifier
}

export interface DemoOptions {
  example: string
  port: string
  keep?: boolean
  once?: boolean
  verbose?: boolean
}

async function importExample<T> (file: string, names: readonly string[]): Promise<T> {
  try {
    await access(file)
  } catch {
    throw new CliError(`${file} is missing: is --example a govex example folder (setup.js, providers/, govex.config.json, plan.json)?`)
  }
  const mod = await import(pathToFileURL(file).href) as Record<string, unknown>
  for (const name of names) {
    if (mod[name] === undefined) throw new CliError(`${file} does not export ${name}; the example is older or newer than this CLI`)
  }
  return mod as T
}

function firstWithRole (members: readonly Member[], role: Member['roles'][number]): Member {
  const m = members.find(x => x.roles.includes(role))
  if (m === undefined) throw new CliError(`the example has no member with role ${role}`)
  return m
}

function preview (value: unknown, max = 110): string {
  const text = JSON.stringify(value) ?? 'null'
  return text.length <= max ? text : text.slice(0, max - 1) + '…'
}

export async function runDemo (ctx: Context, opts: DemoOptions): Promise<void> {
  // from the first moment, as `govex start`: a signal while the demo starts
  // (keys, data folder, providers, gateway, walkthrough) lets what is under
  // way finish, so nothing is left half written, then stops it cleanly
  const stop = stopRequest(ctx.io, 'the demo')
  try {
    await demo(ctx, opts, stop)
  } finally {
    stop.release()
  }
}

async function demo (ctx: Context, opts: DemoOptions, stop: StopRequest): Promise<void> {
  const say = (line = ''): void => { out(ctx, line) }
  const rel = (p: string): string => displayPath(ctx, p)
  const dir = pathOf(ctx, opts.example)
  const port = parsePort(opts.port, '--port')
  const setup = await importExample<ExampleSetup>(join(dir, 'setup.js'), ['setupExample'])
  const providersModule = await importExample<ExampleProviders>(join(dir, 'providers', 'index.js'), ['startProviders', 'PROVIDERS'])
  const configFile = join(dir, 'govex.config.json')
  const planFile = join(dir, 'plan.json')
  const env: Record<string, string | undefined> = { ...ctx.io.env, GOVEX_PORT: String(port) }
  const config = await loadConfigFor({ ...ctx, io: { ...ctx.io, env } }, configFile)
  const dataDir = config.store.kind === 'file' ? config.store.dir : undefined

  // A gateway (or another demo) on the example's data folder first: named as
  // such rather than as a taken port, and before anything has started.
  if (dataDir !== undefined) await refuseFolderInUse(ctx, dataDir, opts.keep === true)
  // Every port first, so a taken one stops us before anything has started.
  if (port !== 0 && !(await isPortFree(port))) {
    throw new CliError(`port ${port} is already in use (another govex gateway or demo?); stop it, or pass --port <n> for the gateway`)
  }
  for (const p of providersModule.PROVIDERS) {
    if (!(await isPortFree(p.port))) {
      throw new CliError(`port ${p.port}, where the example provider ${p.agency} listens, is already in use (another govex demo? lsof -i :${p.port}); stop it and retry`)
    }
  }

  say(`govex demo: the Tianjin example (${rel(dir)})`)
  const { members, generated, keysDir } = await setup.setupExample({ dir, log: () => {} })
  say(`  keys       ${generated.length > 0 ? `generated for ${generated.length} members` : 'already present'} in ${rel(keysDir)} (private keys stay there, git-ignored)`)

  if (dataDir !== undefined && opts.keep !== true) {
    // never wipe anything outside the example folder, whatever the config says
    if (!dataDir.startsWith(dir + sep)) throw new CliError(`the example's store dir ${dataDir} is outside ${dir}; pass --keep to use it as it is`)
    await resetDataFolder(ctx, dataDir)
  }

  if (stop.requested) {
    say('stopped.')
    return
  }
  const providerLog = opts.verbose === true ? (line: string) => { say('  [provider] ' + line) } : () => {}
  // the example's providers verify every gateway call with @govex/sdk, as real ones would
  const verifierFor = providersModule.gatewayVerifiers?.(createGatewayVerifier, dir)
  const providers = await providersModule.startProviders({ log: providerLog, verifierFor })
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined
  try {
    say(`  providers  ${Object.entries(providers.ports).map(([agency, p]) => `${agency} :${p}`).join(', ')}`)
    const { startGateway: start } = await import('@govex/gateway')
    // quiet unless --verbose: the walkthrough is the output; signals are ours (stopRequest)
    const logger = opts.verbose === true ? gatewayLogger(ctx.io).options as StartOptions['logger'] : false
    gateway = await start(config, { logger, signals: false })
    const url = gateway.url.replace(/\/$/, '')
    say(`  gateway    ${config.gatewayId} at ${url} (zone ${config.zone}, ${config.store.kind === 'file' ? `${opts.keep === true ? 'kept' : 'fresh'} data folder ${rel(config.store.dir)}` : 'redis store'})`)

    // a stop asked for while starting: no walkthrough, stop now
    if (!stop.requested) {
      await walkthrough(ctx, { url, config, members, keysDir, dir, configFile, planFile })
      stop.started()
      if (opts.once === true) return
      say()
      say(`The gateway runs at ${url}; Ctrl-C to stop.`)
    }
    await stop.stopped
    say('stopping: flushing the audit log…')
  } finally {
    await gateway?.close()
    await providers.close()
  }
  say('stopped.')
}

/**
 * Empties the example's data folder while holding its lock, as a gateway
 * would hold it: a gateway (or another demo) that starts on the folder
 * meanwhile is refused instead of losing its store and lock from under it,
 * and one that holds it already refuses the demo. The lock is released once
 * the folder is empty, for the demo's gateway to take it.
 */
async function resetDataFolder (ctx: Context, dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true })
  let lock: FolderLock
  try {
    lock = await lockFolder(dataDir)
  } catch (err) {
    // named in the demo's words, with what to do; else core's own message
    if (isGovexError(err) && err.code === 'GOVEX_ERR_CONFLICT') await refuseFolderInUse(ctx, dataDir, false)
    throw err
  }
  try {
    for (const name of await readdir(dataDir)) {
      // the lock, and the files of starters racing for it, are the lock's own
      if (name === LOCK_FILE || name.startsWith(`${LOCK_FILE}.`)) continue
      await rm(join(dataDir, name), { recursive: true, force: true })
    }
  } finally {
    await lock.release()
  }
}

/**
 * Refuses a data folder whose lock a live process holds (a gateway started on
 * the example, another demo): the demo would delete that gateway's store and
 * lock, or (--keep) its gateway could not open them. Deletes nothing.
 */
async function refuseFolderInUse (ctx: Context, dataDir: string, keep: boolean): Promise<void> {
  const holder = await folderLockHolder(dataDir)
  if (holder === undefined) return
  const what = keep ? 'the demo\'s gateway cannot share it' : 'the demo would delete it to start afresh'
  // a holder elsewhere (another host, another machine with this host name) cannot be checked from here
  const todo = holder.unknown === undefined
    ? 'stop that process and run the demo again'
    : `this process cannot tell whether it still runs (${holder.unknown}): stop it, or if it is gone, delete ${displayPath(ctx, join(dataDir, LOCK_FILE))} and run the demo again`
  throw new CliError(`the example's data folder ${displayPath(ctx, dataDir)} is in use by process ${holder.pid} on ${holder.host} since ${holder.since} (a gateway or another demo), and ${what}: ${todo}, or give the demo a data folder of its own inside the example (GOVEX_STORE__DIR=./data-demo)`)
}

interface Walkthrough {
  url: string
  config: ResolvedConfig
  members: Member[]
  keysDir: string
  dir: string
  configFile: string
  planFile: string
}

/** The plan lifecycle, the exchanges and the audit check, printed step by step; a surprise sets exit code 1. */
async function walkthrough (ctx: Context, { url, config, members, keysDir, dir, configFile, planFile }: Walkthrough): Promise<void> {
  const say = (line = ''): void => { out(ctx, line) }
  const keyOf = async (id: string): Promise<PrivateJwk> => await readPrivateJwk(join(keysDir, `${id}.key.json`))
  const actor = async (id: string): Promise<Actor> => new Actor(id, await keyOf(id), url, config.audience ?? config.gatewayId)
  const operator = await actor(firstWithRole(members, 'operator').id)
  const approver = await actor(firstWithRole(members, 'approver').id)
  const auditor = await actor(firstWithRole(members, 'auditor').id)
  let unexpected = 0

  say()
  say(`The sharing plan (Art. 12): ${operator.member} drafts it, ${approver.member} signs its digest, ${operator.member} activates it`)
  const plan = await readPlan(planFile)
  await walkPlan(ctx, plan, operator, approver, await keyOf(approver.member))

  say()
  say('Exchanges: every check of PROTOCOL.md, in order; each request leaves one audit record')
  const sent: Array<Record<string, unknown>> = []
  for (const step of TIANJIN_EXCHANGES) {
    const consumer = await actor(step.consumer)
    const body = 'replayOf' in step.envelope
      ? sent[step.envelope.replayOf as number] ?? {}
      : { id: randomUUID(), ...step.envelope }
    sent.push(body)
    const answer = await consumer.call('POST', `/v1/exchange/${step.resource}`, body)
    const ok = answer.status === step.expect.status && (step.expect.code === undefined || errorOf(answer.body)?.code === step.expect.code)
    if (!ok) unexpected++
    printExchange(ctx, step.title, consumer.member, step.resource, answer, ok ? undefined : `${step.expect.status} ${step.expect.code ?? ''}`.trim())
  }

  say()
  const verify = await auditor.call('GET', '/v1/audit/verify')
  const v = verify.body as { ok?: boolean, checked?: number, firstBad?: { gatewayId: string, seq: number, reason: string } }
  if (verify.status === 200 && v.ok === true) {
    say(`Audit: ✔ hash chain intact, ${v.checked ?? '?'} records checked (GET /v1/audit/verify as ${auditor.member})`)
  } else {
    unexpected++
    say(`Audit: ✘ ${verify.status} ${preview(verify.body)}`)
  }

  printTryIt(ctx, url, await actor(TRY_IT_EXCHANGE.consumer), dir, config.audience ?? config.gatewayId, configFile)
  if (unexpected > 0) {
    ctx.exitCode = 1
    say()
    say(`! ${unexpected} step${unexpected === 1 ? '' : 's'} did not answer as expected (marked !): the gateway or the example changed`)
  }
}

async function walkPlan (ctx: Context, plan: Plan, operator: Actor, approver: Actor, approverKey: PrivateJwk): Promise<void> {
  const step = (answer: Answer, who: string, what: string, detail: string): void => {
    const good = answer.status < 300
    out(ctx, `  ${good ? '✔' : '✘'} ${answer.status} ${who.padEnd(13)} ${what.padEnd(44)} ${good ? detail : preview(answer.body)}`)
    if (!good) {
      const e = errorOf(answer.body)
      throw new CliError(`the gateway refused "${what}": ${answer.status} ${e?.code ?? ''} ${e?.message ?? preview(answer.body)}`.replace(/ +/g, ' '))
    }
  }
  const base = `/v1/plans/${plan.id}`
  let current = await operator.call('GET', base)
  let status = current.status === 200 ? (current.body as { status?: string }).status : undefined
  if (current.status === 200 && (current.body as { version?: number }).version !== plan.version) status = undefined
  if (status === undefined) {
    current = await operator.call('POST', '/v1/plans', plan)
    step(current, operator.member, 'POST /v1/plans', `${plan.id} v${plan.version}, ${plan.grants.length} grants, status ${(current.body as { status?: string }).status ?? '?'}`)
    status = 'draft'
  } else {
    out(ctx, `  ✔ ${plan.id} v${plan.version} is already ${status} in the kept data folder`)
  }
  if (status === 'draft') {
    const d = await approver.call('GET', `${base}/digest`)
    const digest = (d.body as { digest?: string }).digest ?? ''
    const local = digestOf(planDocument(plan))
    step(d, approver.member, `GET ${base}/digest`, digest === local ? `${digest.slice(0, 23)}… = govex plan digest plan.json` : `${digest} (differs from the local ${local}!)`)
    if (digest !== local) throw new CliError(`the gateway's digest ${digest} is not the plan file's ${local}; the approver must not sign it`)
    const signature = signApproval(digest, approverKey)
    step(await approver.call('POST', `${base}/approve`, { signature }), approver.member, `POST ${base}/approve`, `approved: detached JWS by key ${approverKey.kid}`)
    status = 'approved'
  }
  if (status === 'approved') {
    step(await operator.call('POST', `${base}/activate`), operator.member, `POST ${base}/activate`, 'active: exchanges now follow its grants')
  }
}

function printExchange (ctx: Context, title: string, consumer: string, resource: string, answer: Answer, expected: string | undefined): void {
  const flag = expected !== undefined ? '!' : answer.status === 200 ? '✔' : '✘'
  const e = errorOf(answer.body)
  const head = `  ${flag} ${answer.status} ${(e?.code ?? 'allowed').padEnd(30)} ${consumer} → ${resource}`
  out(ctx, head)
  if (answer.status === 200) {
    const body = answer.body as { fields?: string[], data?: unknown, auditSeq?: number }
    out(ctx, `      ${title}: fields ${(body.fields ?? []).join(', ')}; audit seq ${body.auditSeq ?? '?'}`)
    out(ctx, `      data ${preview(body.data)}`)
  } else {
    out(ctx, `      ${title}: ${e?.message ?? preview(answer.body)}`)
  }
  if (expected !== undefined) out(ctx, `      ! expected ${expected}`)
}

function printTryIt (ctx: Context, url: string, consumer: Actor, dir: string, audience: string, configFile: string): void {
  const rel = (p: string): string => displayPath(ctx, p)
  const { token, exp } = consumer.token(300)
  const until = new Date(exp * 1000).toISOString().slice(11, 19)
  const body = JSON.stringify({ id: randomUUID(), ...TRY_IT_EXCHANGE.envelope })
  const auth = '-H "authorization: Bearer $TOKEN"'
  const say = (line = ''): void => { out(ctx, line) }
  say()
  say(`Try it: a token of ${consumer.member}, valid 300 s (until ${until} UTC):`)
  say(`  TOKEN=${token}`)
  say(`  curl -s ${auth} ${url}/v1/catalog`)
  say(`  curl -s ${auth} ${url}/v1/grants/mine`)
  say(`  curl -s ${auth} -H 'content-type: application/json' \\`)
  say(`    -d '${body}' \\`)
  say(`    ${url}/v1/exchange/${TRY_IT_EXCHANGE.resource}`)
  say('    (send it twice: the same envelope id answers 409 GOVEX_ERR_REPLAY)')
  say(`  curl -s ${url}/public/disclosures/tj.psb         (no token: the public portal, Art. 14)`)
  say(`  curl -s ${url}/metrics`)
  say(`  ${url}/docs                 (in a browser: OpenAPI of every route)`)
  say('A new token when this one expires:')
  say(`  TOKEN=$(${govexCommand(ctx, { quiet: true })} token --key ${rel(join(dir, 'keys', `${consumer.member}.key.json`))} --iss ${consumer.member} --aud ${audience})`)
  say('The audit log, read straight from the store (another terminal):')
  say(`  ${govexCommand(ctx)} audit query --config ${rel(configFile)}`)
}

export function registerDemo (program: Command, ctx: Context): void {
  program.command('demo')
    .description('run the Tianjin example end to end: providers, a gateway, the plan lifecycle, allowed and refused exchanges, audit')
    .option('--example <dir>', 'example folder', DEFAULT_EXAMPLE)
    .option('--port <port>', 'gateway port', '8080')
    .option('--keep', 'keep the example\'s data folder instead of starting fresh')
    .option('--once', 'stop after the walkthrough instead of serving until Ctrl-C (exit 1 if a step surprised)')
    .option('--verbose', 'show gateway and provider logs')
    .addHelpText('after', `
Examples:
  $ govex demo                     (from the repository root: pnpm demo)
  $ govex demo --port 8090         (if 8080 is taken)
  $ govex demo --once              (for CI: run the walkthrough and stop)
The providers listen on 4101-4103, where the example directories point.`)
    .action(async (opts: DemoOptions) => {
      await runDemo(ctx, opts)
    })
}
