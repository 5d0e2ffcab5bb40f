// `govex lint`: every problem in directories, plans, disclosures, members and
// configs, one `file:path code message` a line; exit 1 if any.
import type { Command } from 'commander'
import { Option } from 'commander'
import type { Context } from '../context.js'
import { err, json, out, pathOf } from '../context.js'
import { CliError, formatProblem } from '../errors.js'
import { readJson } from '../files.js'
import { allowHostsOf, bootstrapInputs, lintFiles, DOCUMENT_KINDS } from '../lint.js'
import type { DocumentKind, LintInput } from '../lint.js'

interface LintOptions {
  directories?: string[]
  members?: string
  config?: string
  type?: DocumentKind
  json?: boolean
}

export function registerLint (program: Command, ctx: Context): void {
  program.command('lint')
    .description('check directories, plans, disclosure catalogs, members and configs; every problem, exit 1 if any')
    .argument('[files...]', 'documents to check (the kind is told from the content); none with --config: the config and every file it bootstraps')
    .option('--directories <files...>', 'directories forming the catalog plans are checked against')
    .option('--members <file>', 'members (a JSON array) plans are checked against')
    .option('--config <file>', 'take directories, members and upstream.allowHosts from a gateway config\'s bootstrap')
    .addOption(new Option('--type <kind>', 'treat every file given as this kind').choices([...DOCUMENT_KINDS]))
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Examples:
  $ govex lint directories/*.json
  $ govex lint --directories directories/*.json --members members.json plan.json
  $ govex lint --config govex.config.json plan.json
  plan.json:/grants/0/fields/1 unknown-field tj.psb:household-registration has no item "salary"`)
    .action(async (files: string[], opts: LintOptions) => {
      const inputs: LintInput[] = files.map(f => ({ name: f, path: pathOf(ctx, f), report: true, kind: opts.type }))
      let allowHosts: readonly string[] | undefined
      if (opts.config !== undefined) {
        const configPath = pathOf(ctx, opts.config)
        const config = await readJson(configPath, 'config')
        allowHosts = allowHostsOf(config)
        const report = files.length === 0
        inputs.push({ name: opts.config, path: configPath, report, kind: 'config' })
        for (const i of bootstrapInputs(configPath, config)) inputs.push({ ...i, report })
      }
      for (const d of opts.directories ?? []) inputs.push({ name: d, path: pathOf(ctx, d), report: files.length === 0, kind: 'directory' })
      if (opts.members !== undefined) inputs.push({ name: opts.members, path: pathOf(ctx, opts.members), report: files.length === 0, kind: 'members' })
      if (inputs.length === 0) throw new CliError('nothing to lint: name the files, or pass --config <govex.config.json>')

      const report = await lintFiles(inputs, { allowHosts })
      ctx.exitCode = report.ok ? 0 : 1
      if (opts.json === true) {
        json(ctx, report)
        return
      }
      let count = 0
      for (const f of report.files) {
        for (const p of f.problems) {
          count++
          out(ctx, `${f.file}:${formatProblem(p)}`)
        }
      }
      for (const c of report.catalog) {
        count++
        out(ctx, `catalog: ${c.code} ${c.message}`)
      }
      for (const s of report.skipped) err(ctx, `note: ${s}`)
      const checked = report.files.length
      if (count === 0) err(ctx, `ok: ${checked} file${checked === 1 ? '' : 's'}, no problems`)
      else err(ctx, `${count} problem${count === 1 ? '' : 's'} in ${report.files.filter(f => f.problems.length > 0).length} of ${checked} files`)
    })
}
