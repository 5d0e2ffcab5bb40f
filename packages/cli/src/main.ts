// The `govex` program: commander wiring, and the one place where errors become
// a single line on stderr and an exit code.
import { Command, CommanderError } from 'commander'
import type { Option } from 'commander'
import { ReaderGoneError, processIo } from './io.js'
import type { Io } from './io.js'
import { createContext } from './context.js'
import type { Context } from './context.js'
import { describeError } from './errors.js'
import { registerInit } from './commands/init.js'
import { registerStart } from './commands/start.js'
import { registerKeys } from './commands/keys.js'
import { registerToken } from './commands/token.js'
import { registerLint } from './commands/lint.js'
import { registerPlan } from './commands/plan.js'
import { registerAudit } from './commands/audit.js'
import { registerDemo } from './commands/demo.js'

export const VERSION = '0.1.0'

export function buildProgram (ctx: Context): Command {
  const program = new Command('govex')
  program
    .description('govex: an information-sharing exchange for government agencies')
    .version(VERSION, '-V, --version')
    .option('--debug', 'print stack traces of errors (also GOVEX_DEBUG=1)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: s => { ctx.io.stdout.write(s) },
      writeErr: s => { ctx.io.stderr.write(s) },
      outputError: (s, write) => { write(s.trimEnd() + ' (see --help)\n') }
    })
    .addHelpText('after', `
Examples:
  $ govex demo                          run the Tianjin example end to end
  $ govex init ./my-exchange            a ready deployment folder
  $ govex start --config ./my-exchange/govex.config.json
Run "govex <command> --help" for a command's options and an example.`)
  registerInit(program, ctx)
  registerStart(program, ctx)
  registerKeys(program, ctx)
  registerToken(program, ctx)
  registerLint(program, ctx)
  registerPlan(program, ctx)
  registerAudit(program, ctx)
  registerDemo(program, ctx)
  checkRequiredAfterUnknown(program)
  return program
}

/**
 * Commander checks required options before unknown ones, so `audit query
 * --bogus` said only that `--config` is missing. The required options are
 * checked here instead, just before the action: after commander has reported
 * an unknown option (and a missing or excess argument), with its own message.
 */
function checkRequiredAfterUnknown (program: Command): void {
  const required = new Map<Command, Option[]>()
  const walk = (cmd: Command): void => {
    const options = cmd.options.filter(o => o.mandatory)
    for (const o of options) o.makeOptionMandatory(false)
    if (options.length > 0) required.set(cmd, options)
    for (const sub of cmd.commands) walk(sub)
  }
  walk(program)
  program.hook('preAction', (_, action) => {
    for (const o of required.get(action) ?? []) {
      if (action.getOptionValue(o.attributeName()) === undefined) {
        action.error(`error: required option '${o.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' })
      }
    }
  })
}

/** Runs the command line; resolves with the exit code (it never calls process.exit). */
export async function run (argv: readonly string[], io: Io = processIo()): Promise<number> {
  const ctx = createContext(io, argv[1])
  const program = buildProgram(ctx)
  try {
    await program.parseAsync([...argv], { from: 'node' })
    return ctx.exitCode
  } catch (err) {
    // commander already printed its own message (usage errors, help, version)
    if (err instanceof CommanderError) return err.exitCode
    // the reader of a streamed output went away (`| head`): not an error to report
    if (err instanceof ReaderGoneError) return ctx.exitCode
    const debug = argv.includes('--debug') || isOn(io.env.GOVEX_DEBUG)
    const { lines, exitCode } = describeError(err)
    // PROTOCOL.md: one readable line — the problems of a document or config follow its summary, `; ` between them
    io.stderr.write('error: ' + oneLine(lines) + '\n')
    if (debug && err instanceof Error && err.stack !== undefined) io.stderr.write(err.stack + '\n')
    return exitCode
  }
}

/** The lines of an error as one line: the summary, then each problem. */
export function oneLine (lines: readonly string[]): string {
  const parts = lines.flatMap(line => line.split('\n')).map(part => part.trim()).filter(part => part !== '')
  const [first = '', ...rest] = parts
  return rest.length === 0 ? first : `${first.replace(/[:;]$/, '')}: ${rest.join('; ')}`
}

function isOn (value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value !== 'false'
}
