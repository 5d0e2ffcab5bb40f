// Durable document files: each write goes to a temp file in the same folder,
// is fsync'd, renamed over the target and the folder fsync'd, so a crash leaves
// either the old document or the new one, never a torn one. The data folder's
// lock (folder-lock.ts) writes its files the same way, then links them.
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join, resolve } from 'node:path'

const TEMP_SUFFIX = '.tmp'

/** Writes `text` (or bytes) to `path` atomically and durably, creating the folder if needed. */
export async function writeFileAtomic (path: string, text: string | Uint8Array): Promise<void> {
  const folder = dirname(path)
  await ensureFolder(folder)
  // Legal ids never start with a dot, so a temp file is never taken for a document.
  const temp = await writeDurableTemp(folder, `.${basename(path)}`, text, 0o600)
  try {
    await rename(temp, path)
  } catch (err) {
    await unlink(temp).catch(() => {})
    throw err
  }
  await syncFolder(folder)
}

/**
 * Writes `text` (or bytes) whole to a new file `<folder>/<prefix>.<random>.tmp`
 * and syncs it to disk; returns its path, for the caller to rename or link into
 * place and then remove. On failure no temp file is left.
 */
export async function writeDurableTemp (folder: string, prefix: string, text: string | Uint8Array, mode: number): Promise<string> {
  const temp = join(folder, `${prefix}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`)
  // 'wx': the name is new, so a file of that name is not ours to write or remove
  const handle = await open(temp, 'wx', mode)
  try {
    try {
      await handle.writeFile(text, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch (err) {
    await unlink(temp).catch(() => {})
    throw err
  }
  return temp
}

/**
 * Creates `folder` and its missing parents (`mkdir -p`), and makes each new
 * folder's entry durable in its parent. Rejects with the errno error of the
 * folder that could not be made.
 */
export async function ensureFolder (folder: string): Promise<void> {
  const created: string[] = []
  await makeFolder(resolve(folder), created)
  if (created.length === 0 && !(await stat(folder)).isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${folder}'`), { code: 'ENOTDIR', path: folder })
  }
  for (const made of created) await syncFolder(dirname(made))
}

/**
 * `mkdir -p` that always ends, pushing each folder it made (outermost first).
 * Node's own recursive mkdir spins forever where a folder exists but cannot
 * hold the one asked for (under /proc every mkdir answers ENOENT while its
 * parent answers EEXIST): here an ENOENT once the parent exists is final.
 * A file in the way shows when something inside it is opened (ENOTDIR).
 */
async function makeFolder (folder: string, created: string[]): Promise<void> {
  try {
    await mkdir(folder)
    created.push(folder)
    return
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return
    const parent = dirname(folder)
    if (code !== 'ENOENT' || parent === folder) throw err
    await makeFolder(parent, created)
  }
  try {
    await mkdir(folder)
    created.push(folder)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
}

/** Why ensureFolder() failed, in words for an error message that names the folder. */
export function folderProblem (err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'this place cannot hold a folder'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'ENOTDIR') return 'a file is in the way'
  return (err as Error).message
}

export async function syncFolder (folder: string): Promise<void> {
  const handle = await open(folder, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

export interface FolderEntry {
  name: string
  isDirectory: boolean
}

/** The folder's entries; temp files a crash left behind are removed. Empty if it does not exist. */
export async function readFolder (folder: string): Promise<FolderEntry[]> {
  let dirents
  try {
    dirents = await readdir(folder, { withFileTypes: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const entries: FolderEntry[] = []
  for (const dirent of dirents) {
    if (dirent.name.startsWith('.') && dirent.name.endsWith(TEMP_SUFFIX) && dirent.isFile()) {
      await unlink(join(folder, dirent.name))
      continue
    }
    entries.push({ name: dirent.name, isDirectory: dirent.isDirectory() })
  }
  return entries
}
