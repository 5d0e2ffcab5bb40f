// A temporary root for one test file, removed when the file's tests end, and
// a new empty folder in it for each call: one data folder per test.
import type { Test } from 'tap'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function tempFolders (t: Test, label: string): Promise<() => Promise<string>> {
  const root = await mkdtemp(join(tmpdir(), `govex-${label}-`))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  let made = 0
  return async () => {
    const dir = join(root, `d${++made}`)
    await mkdir(dir)
    return dir
  }
}
