// `govex audit query|verify|export`: the audit log read straight from the
// configured store (no gateway needed), or an exported file checked offline.
import { createWriteStream } from 'node:fs'
import type { Command } from 'commander'
import { Option } from 'commander'
import { readFile } from 'node:fs/promises'
import { ERROR_CODES, isMemberId, isResourceId, normalizeFilter } from '@govex/core'
import type { AuditFilter, AuditStats, AuditVerifyResult, CheckpointKeys, Member } from '@govex/core'
import type { Context } from '../context.js'
import { err, json, out, pathOf } from '../context.js'
import { CliError } from '../errors.js'
import { writeChunk } from '../io.js'
import type { Output } from '../io.js'
import { Progress } from '../progress.js'
import { loadConfigFor } from '../config.js'
import type { ResolvedConfig } from '../config.js'
import type { AuditSource } from '../audit-source.js'
import { csvHeader, csvRow, formatStats, formatTable, ndjsonRow } from '../audit-format.js'

interface FilterOptions {
  consumer?: string
  provider?: string
  resource?: string
  outcome?: AuditFilter['outcome']
  kind?: AuditFilter['kind']
  from?: string
  to?: string
  userId?: string
  caseRef?: string
  grantId?: string
  code?: string
  gateway?: string
}

function addFilters (cmd: Command): Command {
  return cmd
    .option('--consumer <member>', 'records of this consumer agency')
    .option('--provider <member>', 'records of this provider agency')
    .option('--resource <id>', 'records of this resource')
    .addOption(new Option('--outcome <outcome>', 'allowed, denied or error').choices(['allowed', 'denied', 'error']))
    .addOption(new Option('--kind <kind>', 'exchange, admin or checkpoint (the chain\'s signed checkpoints)').choices(['exchange', 'admin', 'checkpoint']))
    .option('--from <iso>', 'at or after this instant (ISO 8601)')
    .option('--to <iso>', 'before this instant (ISO 8601)')
    .option('--user-id <id>', 'records of this officer (userId)')
    .option('--case-ref <ref>', 'records of this case (caseRef)')
    .option('--grant-id <id>', 'records under this grant')
    .option('--code <code>', 'records with this error code, e.g. GOVEX_ERR_NO_GRANT')
    .option('--gateway <id>', 'records of this gateway\'s chain')
}

/** A --from/--to date read as every store and GET /v1/audit read it (core's normalizeFilter): a day, or a time with its zone. */
function instant (name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  try {
    return normalizeFilter({ from: value }).from
  } catch {
    throw new CliError(`${name} ${value} is not an ISO 8601 date or date-time with a zone; use e.g. 2026-11-27 or 2026-11-27T08:00:00Z`)
  }
}

/** --from and --to as instants, refused when from is later (as GET /v1/audit answers 400: an empty answer would read as "nothing happened"). */
function rangeOf (o: { from?: string | undefined, to?: string | undefined }): { from: string | undefined, to: string | undefined } {
  const from = instant('--from', o.from)
  const to = instant('--to', o.to)
  if (from !== undefined && to !== undefined && from > to) throw new CliError(`--from ${o.from ?? ''} is later than --to ${o.to ?? ''}; swap them`)
  return { from, to }
}

/** A member id filter, refused as GET /v1/audit refuses it (400): a misspelt id would match nothing and read as "nothing happened". */
function memberFilter (option: string, value: string): string {
  if (!isMemberId(value)) throw new CliError(`${option} ${JSON.stringify(value)} is not a member id: write it in lowercase, e.g. tj.mca`)
  return value
}

export function filterOf (o: FilterOptions): AuditFilter {
  const f: AuditFilter = {}
  if (o.consumer !== undefined) f.consumer = memberFilter('--consumer', o.consumer)
  if (o.provider !== undefined) f.provider = memberFilter('--provider', o.provider)
  if (o.resource !== undefined) {
    if (!isResourceId(o.resource)) throw new CliError(`--resource ${JSON.stringify(o.resource)} is not a resource id: write <provider>:<name> in lowercase, e.g. tj.psb:household-registration`)
    f.resource = o.resource
  }
  if (o.outcome !== undefined) f.outcome = o.outcome
  if (o.kind !== undefined) f.kind = o.kind
  const { from, to } = rangeOf(o)
  if (from !== undefined) f.from = from
  if (to !== undefined) f.to = to
  if (o.userId !== undefined) f.userId = o.userId
  if (o.caseRef !== undefined) f.caseRef = o.caseRef
  if (o.grantId !== undefined) f.grantId = o.grantId
  if (o.code !== undefined) f.code = errorCodeFilter(o.code)
  if (o.gateway !== undefined) f.gatewayId = memberFilter('--gateway', o.gateway)
  return f
}

/** `--code`: a PROTOCOL.md code, with or without its GOVEX_ERR_ prefix, in any case; anything else is refused, as no record could match it. */
function errorCodeFilter (value: string): string {
  const upper = value.toUpperCase().replaceAll('-', '_')
  const code = upper.startsWith('GOVEX_ERR_') ? upper : 'GOVEX_ERR_' + upper
  if (!(code in ERROR_CODES)) throw new CliError(`--code ${JSON.stringify(value)} is not a govex error code; use one of docs/errors.md, e.g. NO_GRANT or GOVEX_ERR_QUOTA`)
  return code
}

/**
 * Runs a step that cannot count what it reads (opening a store, one query
 * page, stats) with the time it takes shown on a terminal.
 */
async function timed<T> (ctx: Context, label: string, step: () => Promise<T>): Promise<T> {
  const progress = new Progress(ctx.io.stderr, label, { counts: false })
  let ok = false
  try {
    const result = await step()
    ok = true
    return result
  } finally {
    progress.done(ok)
  }
}

/** The store layer is loaded on first use, so other commands start fast. */
async function openSource (config: ResolvedConfig): Promise<AuditSource> {
  const { openAuditSource } = await import('../audit-source.js')
  return await openAuditSource(config)
}

/** Checkpoint keys: from `--members`, else from the store's members; undefined when no gateway member is known. */
async function checkpointKeys (ctx: Context, membersFile: string | undefined, source?: AuditSource): Promise<CheckpointKeys | undefined> {
  const core = await import('@govex/core')
  let members: Member[] = []
  if (membersFile !== undefined) {
    const path = pathOf(ctx, membersFile)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (e) {
      throw new CliError(`cannot read --members ${membersFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass the members JSON list (the config's bootstrap.members)`)
    }
    const parsed = core.parseDocument('members', text)
    if (!parsed.ok) throw new CliError(`--members ${membersFile} is not a member list: ${parsed.problems.map(p => `${p.path} ${p.message}`).join('; ')}`)
    members = parsed.value
  } else if (source !== undefined) {
    members = await source.members()
  }
  const gateways = members.filter(m => m.roles.includes('gateway'))
  return gateways.length === 0 ? undefined : core.checkpointKeysOf(gateways)
}

function printVerify (ctx: Context, result: AuditVerifyResult, asJson: boolean, what: string, keysKnown: boolean): void {
  ctx.exitCode = result.ok ? 0 : 1
  if (asJson) {
    json(ctx, result)
    return
  }
  if (result.ok) {
    out(ctx, `ok: ${result.checked} records checked in ${what}, every chain intact`)
    const last = Object.entries(result.lastCheckpoint ?? {}).map(([gw, seq]) => `${gw} up to seq ${seq}`)
    if (last.length > 0) out(ctx, `signed checkpoints: ${result.checkpoints ?? 0} valid; proven by the gateways' keys: ${last.join(', ')}`)
    else if (!keysKnown) err(ctx, 'checkpoint signatures not checked: no gateway member known (pass --members <members.json>)')
  } else {
    const bad = result.firstBad
    const where = bad === undefined ? 'a record' : `gateway ${bad.gatewayId} seq ${bad.seq}`
    out(ctx, `broken: ${where} ${bad?.reason ?? 'does not verify'} (${result.checked} records checked in ${what})`)
  }
}

export function registerAudit (program: Command, ctx: Context): void {
  const audit = program.command('audit').description('query, verify and export the audit log straight from the configured store')

  addFilters(audit.command('query'))
    .description('one page of audit records, oldest first')
    .requiredOption('--config <file>', 'gateway config whose store to read')
    .option('--limit <n>', 'records per page, at most 1000', '100')
    .option('--cursor <cursor>', 'the next page of the same query (printed after a full page)')
    .addOption(new Option('--format <format>', 'output format (default: table on a terminal, else json)').choices(['table', 'json', 'ndjson', 'csv']))
    .addOption(new Option('--json', 'the same as --format json, for scripts').conflicts('format'))
    .addHelpText('after', `
Examples:
  $ govex audit query --config govex.config.json --consumer tj.mca --outcome denied
  $ govex audit query --config govex.config.json --from 2026-11-27 --format csv > today.csv`)
    .action(async (opts: FilterOptions & { config: string, limit: string, cursor?: string, format?: string, json?: boolean }) => {
      const limit = Number(opts.limit)
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CliError(`--limit ${opts.limit} must be a whole number from 1 to 1000; use "govex audit export" for everything`)
      const filter = filterOf(opts)
      const format = opts.json === true ? 'json' : opts.format ?? (ctx.io.stdout.isTTY === true ? 'table' : 'json')
      const config = await loadConfigFor(ctx, opts.config)
      const { source, page } = await timed(ctx, 'querying the audit log', async () => {
        const source = await openSource(config)
        try {
          return { source, page: await source.audit.query(filter, limit, opts.cursor) }
        } catch (e) {
          await source.close()
          throw e
        }
      })
      try {
        const more = (): void => {
          if (page.nextCursor !== null) err(ctx, `more records: add --cursor ${page.nextCursor}`)
        }
        switch (format) {
          case 'json': json(ctx, page); break
          case 'ndjson': for (const r of page.records) ctx.io.stdout.write(ndjsonRow(r)); more(); break
          case 'csv': ctx.io.stdout.write(csvHeader()); for (const r of page.records) ctx.io.stdout.write(csvRow(r)); more(); break
          default:
            if (page.records.length === 0) err(ctx, 'no records match')
            else ctx.io.stdout.write(formatTable(page.records))
            more()
        }
      } finally {
        await source.close()
      }
    })

  audit.command('verify')
    .description('walk every hash chain and check checkpoint signatures; exit 1 naming the gateway and seq of the first bad record')
    .option('--config <file>', 'gateway config whose store to verify')
    .option('--file <export.ndjson>', 'verify an exported NDJSON file instead, offline (an unfiltered export)')
    .option('--from <iso>', 'verify from the last checkpoint before this instant (store only)')
    .option('--to <iso>', 'verify up to this instant (store only)')
    .option('--members <members.json>', 'member list whose gateway keys check the checkpoints (default: the store\'s members)')
    .option('--json', 'print { ok, checked, firstBad, checkpoints, lastCheckpoint } as JSON')
    .addHelpText('after', `
Examples:
  $ govex audit verify --config govex.config.json
  ok: 10432 records checked in the store, every chain intact
  signed checkpoints: 10 valid; proven by the gateways' keys: tj.gw.extranet-1 up to seq 10011
  $ govex audit verify --config govex.config.json --from 2026-11-01 --to 2026-12-01
  $ govex audit verify --file audit-2026-11.ndjson --members members.json
  broken: gateway tj.gw.extranet-1 seq 1042 changed (1042 records checked in audit-2026-11.ndjson)`)
    .action(async (opts: { config?: string, file?: string, from?: string, to?: string, members?: string, json?: boolean }) => {
      const { from, to } = rangeOf(opts)
      if (opts.file !== undefined) {
        if (opts.config !== undefined) throw new CliError('pass either --config (verify the store) or --file (verify an export), not both')
        if (from !== undefined || to !== undefined) throw new CliError('--from and --to apply to a store; an export file is verified whole')
        const file = pathOf(ctx, opts.file)
        const keys = await checkpointKeys(ctx, opts.members)
        const progress = new Progress(ctx.io.stderr, 'verified')
        const { verifyExportFile } = await import('../audit-source.js')
        let result: AuditVerifyResult | undefined
        try {
          result = await verifyExportFile(file, keys, n => { progress.add(n) })
        } finally {
          progress.done(result !== undefined)
        }
        if (result.firstBad?.gatewayId === '') {
          // a line that is not a record at all: say which, as a reader would
          const { readNdjson } = await import('../ndjson.js')
          for await (const _ of readNdjson(file)) { /* throws at the first line that is not a record */ }
        }
        printVerify(ctx, result, opts.json === true, opts.file, keys !== undefined)
        return
      }
      const config = await loadConfigFor(ctx, opts.config)
      const what = from === undefined && to === undefined ? 'the store' : `the store (${from ?? 'start'} to ${to ?? 'now'}, from the last checkpoint before)`
      const progress = new Progress(ctx.io.stderr, 'verified')
      let outcome: { result: AuditVerifyResult, keys: CheckpointKeys | undefined } | undefined
      try {
        const source = await openSource(config)
        try {
          const keys = await checkpointKeys(ctx, opts.members, source)
          let shown = 0
          const onProgress = (checked: number): void => {
            progress.add(checked - shown)
            shown = checked
          }
          outcome = { result: await source.audit.verify({ from, to, keys, onProgress }), keys }
        } finally {
          await source.close()
        }
      } finally {
        progress.done(outcome !== undefined)
      }
      const { result, keys } = outcome
      printVerify(ctx, result, opts.json === true, what, keys !== undefined)
    })

  audit.command('stats')
    .description('exchange records per consumer, provider, resource or outcome: counts and latency percentiles')
    .requiredOption('--config <file>', 'gateway config whose store to read')
    .addOption(new Option('--by <group>', 'what to group by').choices(['consumer', 'provider', 'resource', 'outcome']).default('consumer'))
    .option('--from <iso>', 'at or after this instant (ISO 8601)')
    .option('--to <iso>', 'before this instant (ISO 8601)')
    .option('--json', 'print the stats as JSON')
    .addHelpText('after', `
Examples:
  $ govex audit stats --config govex.config.json --by provider --from 2026-11-01 --to 2026-12-01`)
    .action(async (opts: { config: string, by: 'consumer' | 'provider' | 'resource' | 'outcome', from?: string, to?: string, json?: boolean }) => {
      const filter = filterOf({ from: opts.from, to: opts.to })
      const config = await loadConfigFor(ctx, opts.config)
      const stats = await timed(ctx, 'counting audit records', async () => {
        const source = await openSource(config)
        try {
          return await source.audit.statistics(opts.by, filter)
        } finally {
          await source.close()
        }
      })
      if (opts.json === true) json(ctx, stats)
      else ctx.io.stdout.write(formatStats(stats))
    })

  addFilters(audit.command('export'))
    .description('every matching record, streamed: NDJSON (default) or CSV, to stdout or --out')
    .requiredOption('--config <file>', 'gateway config whose store to read')
    .addOption(new Option('--format <format>', 'output format').choices(['ndjson', 'csv']).default('ndjson'))
    .option('--out <file>', 'write to this file instead of stdout (refuses to overwrite unless --force)')
    .option('--force', 'replace --out if it exists')
    .addHelpText('after', `
Examples:
  $ govex audit export --config govex.config.json --out audit.ndjson
  $ govex audit verify --file audit.ndjson
  $ govex audit export --config govex.config.json --provider tj.psb --format csv > psb.csv`)
    .action(async (opts: FilterOptions & { config: string, format: 'ndjson' | 'csv', out?: string, force?: boolean }) => {
      const filter = filterOf(opts)
      const config = await loadConfigFor(ctx, opts.config)
      const progress = new Progress(ctx.io.stderr, 'exported')
      let ok = false
      const source = await openSource(config).catch((e: unknown) => { progress.done(false); throw e })
      let sink: Output = ctx.io.stdout
      let file: ReturnType<typeof createWriteStream> | undefined
      try {
        if (opts.out !== undefined) {
          const path = pathOf(ctx, opts.out)
          file = createWriteStream(path, { flags: opts.force === true ? 'w' : 'wx' })
          await new Promise<void>((resolve, reject) => {
            file?.once('open', () => { resolve() })
            file?.once('error', (e: NodeJS.ErrnoException) => {
              reject(e.code === 'EEXIST' ? new CliError(`${opts.out ?? ''} already exists; pass --force to replace it`) : e)
            })
          })
          sink = file
        }
        const row = opts.format === 'csv' ? csvRow : ndjsonRow
        if (opts.format === 'csv') await writeChunk(sink, csvHeader())
        for await (const r of source.audit.scan(filter)) {
          await writeChunk(sink, row(r))
          progress.tick()
        }
        ok = true
        const n = progress.done()
        if (file !== undefined) {
          const f = file
          await new Promise<void>((resolve, reject) => { f.end((e?: Error | null) => { if (e != null) reject(e); else resolve() }) })
          err(ctx, `exported ${n} records to ${opts.out ?? ''}`)
        }
      } finally {
        progress.done(ok)
        file?.destroy()
        await source.close()
      }
    })
}
