// A child process that answers in JSON lines, one per line of stdout: the data
// folder lock's tests run a store (core) or a gateway (gateway, which imports
// this file by its path) in processes of their own, to hold, kill and race for
// a folder across processes. The child is SIGKILLed at the test's end if it
// still runs.
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface LineChild {
  child: ChildProcessWithoutNullStreams
  /** the next JSON line the child prints; rejects, with its stderr, if it ends first */
  next: () => Promise<Record<string, unknown>>
  /** its exit code, null when a signal ended it */
  exited: Promise<number | null>
}

/** Runs the TypeScript `script` with `args`, under this process's loader flags. */
export function spawnLines (t: Test, script: string, args: string[]): LineChild {
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: 'pipe' })
  const exited = new Promise<number | null>(resolve => { child.once('exit', code => { resolve(code) }) })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  let stderr = ''
  child.stderr.on('data', chunk => { stderr += String(chunk) })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next()
    if (done === true) throw new Error(`the child process ${script} ended without answering: ${stderr}`)
    return JSON.parse(value as string) as Record<string, unknown>
  }
  return { child, next, exited }
}
