// The file half of the document stores: one JSON file per document,
// `<folder>/<key>.json`, loaded whole at open (reads never touch the disk) and
// written atomically. Keys become file names, so anything that is not a legal
// id is refused before it can name a path.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { GovexError } from '../../codes.js'
import type { MemoryStoreOptions } from '../memory/documents.js'
import { readFolder } from './atomic.js'

const SUFFIX = '.json'

export interface FileStoreOptions extends MemoryStoreOptions {
  /** the data folder (`store.dir`) */
  dir: string
}

/** `<folder>/<key>.json`, or GOVEX_ERR_BAD_REQUEST when `key` is not a legal id. */
export function documentPath (folder: string, key: string, isLegal: (key: string) => boolean, what: string): string {
  if (!isLegal(key)) throw new GovexError('GOVEX_ERR_BAD_REQUEST', `${JSON.stringify(key)} is not a legal ${what}; use the form of PROTOCOL.md "Identifiers"`)
  return join(folder, key + SUFFIX)
}

/**
 * Every `<key>.json` in `folder` whose key is legal, as [key, JSON text].
 * Other files are left alone; a document that is not JSON or whose `keyField`
 * differs from its file name stops the open, naming the file to fix.
 */
export async function loadDocuments (folder: string, isLegal: (key: string) => boolean, keyField: string): Promise<Array<[string, string]>> {
  const documents: Array<[string, string]> = []
  for (const entry of await readFolder(folder)) {
    if (entry.isDirectory || !entry.name.endsWith(SUFFIX)) continue
    const key = entry.name.slice(0, -SUFFIX.length)
    if (!isLegal(key)) continue
    const path = join(folder, entry.name)
    const text = await readFile(path, 'utf8')
    const doc = parseStoredDocument(path, text)
    const stored = (doc as Record<string, unknown>)[keyField]
    if (stored !== key) {
      throw new GovexError('GOVEX_ERR_INVALID_DOCUMENT', `${path} holds ${keyField} ${JSON.stringify(stored)}, not ${JSON.stringify(key)}; rename or remove the file`)
    }
    documents.push([key, text])
  }
  return documents
}

/** A stored document: a JSON object, or GOVEX_ERR_INVALID_DOCUMENT naming the file. */
export function parseStoredDocument (path: string, text: string): object {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new GovexError('GOVEX_ERR_INVALID_DOCUMENT', `${path} is not valid JSON (${(err as Error).message}); fix or remove the file`)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new GovexError('GOVEX_ERR_INVALID_DOCUMENT', `${path} does not hold a JSON object; fix or remove the file`)
  }
  return doc
}
