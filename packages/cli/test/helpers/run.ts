// Runs the CLI in-process with captured output, as the tests' one way in.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { run } from '../../src/main.js'
import type { Io, Output } from '../../src/io.js'

export class Capture implements Output {
  text = ''
  constructor (readonly isTTY = false) {}
  write (chunk: string): boolean {
    this.text += chunk
    return true
  }

  get lines (): string[] {
    return this.text.split('\n').filter(l => l !== '')
  }
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
  out: Capture
  errOut: Capture
}

export async function govex (args: readonly string[], options: { cwd?: string, env?: Record<string, string | undefined>, signal?: AbortSignal, tty?: boolean } = {}): Promise<RunResult> {
  const out = new Capture(options.tty === true)
  const errOut = new Capture(options.tty === true)
  const io: Io = { stdout: out, stderr: errOut, env: options.env ?? {}, cwd: options.cwd ?? process.cwd(), signal: options.signal }
  const code = await run(['node', 'govex', ...args], io)
  return { code, stdout: out.text, stderr: errOut.text, out, errOut }
}

/** A fresh temporary folder, removed when the test ends. */
export async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'govex-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}
