// A keyed set of JSON documents (members, directories, disclosure catalogs):
// the in-memory half every embedded document store shares. Documents are held
// as JSON text, so a caller gets a fresh copy on every read, exactly what a file
// or Redis would give back, and can never mutate the stored one by accident.
import type { StoreChange } from '../types.js'

export type ChangeListener = (change: StoreChange) => void

export interface MemoryStoreOptions {
  /** told of every committed change (the stores' subscribe() is built on it) */
  onChange?: ChangeListener | undefined
}

export abstract class MemoryDocumentStore<T> {
  readonly #docs = new Map<string, string>()
  readonly #onChange: ChangeListener | undefined
  // Writes run one after another, so a slower earlier write can never land
  // after (and overwrite) a later one.
  #writes: Promise<unknown> = Promise.resolve()

  constructor (options: MemoryStoreOptions = {}) {
    this.#onChange = options.onChange
  }

  protected abstract keyOf (doc: T): string
  protected abstract changeOf (key: string): StoreChange

  /** makes the document durable before the in-memory view switches to it (file stores) */
  protected async persist (_key: string, _text: string): Promise<void> {}

  /** loads a stored document without writing it or telling anyone (used at open) */
  protected restore (key: string, text: string): void {
    this.#docs.set(key, text)
  }

  async get (key: string): Promise<T | undefined> {
    const text = this.#docs.get(key)
    return text === undefined ? undefined : JSON.parse(text) as T
  }

  async list (): Promise<T[]> {
    const keys = [...this.#docs.keys()].sort(compareKeys)
    return keys.map(key => JSON.parse(this.#docs.get(key) as string) as T)
  }

  put (doc: T): Promise<void> {
    const key = this.keyOf(doc)
    const text = JSON.stringify(doc)
    const write = this.#writes.then(async () => {
      await this.persist(key, text)
      this.#docs.set(key, text)
      this.#onChange?.(this.changeOf(key))
    })
    this.#writes = write.catch(() => {})
    return write
  }
}

/** Code-unit order: the same everywhere, unlike localeCompare. */
export function compareKeys (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
