// Reading and writing the JSON files the commands take and produce, with
// errors that name the file and say what is wrong with it.
import { readFile, writeFile, chmod } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { ensureFolder, folderProblem } from '@govex/core'
import { CliError } from './errors.js'

export async function readText (file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message
    throw new CliError(`cannot read ${what} ${file}: ${why}`, { cause: err })
  }
}

export async function readJson (file: string, what: string): Promise<unknown> {
  const text = await readText(file, what)
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new CliError(`${what} ${file} is not valid JSON: ${(err as Error).message}`, { cause: err })
  }
}

export interface WriteOptions {
  /** replace an existing file instead of refusing */
  force?: boolean
  /** file mode, e.g. 0o600 for private keys */
  mode?: number
}

/** Writes pretty JSON, refusing to overwrite unless `force`, creating the folder. */
export async function writeJson (file: string, value: unknown, options: WriteOptions = {}): Promise<void> {
  const folder = dirname(resolve(file))
  try {
    await ensureFolder(folder)
  } catch (err) {
    throw new CliError(`cannot create folder ${folder}: ${folderProblem(err)}; choose another place to write to`, { cause: err })
  }
  const mode = options.mode ?? 0o644
  try {
    await writeFile(file, JSON.stringify(value, null, 2) + '\n', { flag: options.force === true ? 'w' : 'wx', mode })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(`${file} already exists; pass --force to replace it`, { cause: err })
    }
    throw err
  }
  // `mode` applies only when the file is created; a replaced file keeps its old mode.
  if (options.force === true) await chmod(file, mode)
}
