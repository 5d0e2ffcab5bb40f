// @govex/cli: the `govex` command line, callable in-process for tests and tools.
export { run, buildProgram, VERSION } from './main.js'
export type { Io, Output } from './io.js'
export { CliError } from './errors.js'
