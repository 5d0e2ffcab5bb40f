// Generators for bad input: strings that break things (lone surrogates, CRLF,
// NUL, traversal, prototype keys), any JSON value, and mutations of a valid
// document at a random path — delete, replace, add a key, duplicate an item.
import fc from 'fast-check'

export const NASTY_STRINGS = [
  '', ' ', 'NaN', 'Infinity', '-Infinity', '-0', '1e400', 'null', 'undefined', 'true',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  '../..', '..%2F..%2F', '%2e%2e%2f', '..\\..\\', '/etc/passwd', 'tj.psb/../tj.mca',
  'a\r\nx-injected: 1', '\r\n\r\nGET / HTTP/1.1', '\u0000', '\u2028\u2029', '\ud800', '\udfff', 'a\ud800b', '\ud83d\ude00',
  'x'.repeat(129), 'x'.repeat(300), '<script>alert(1)</script>', '${jndi:ldap://x}', '{"a":1}', 'SELECT 1;--'
]

/** Strings of any UTF-16 code units, lone surrogates included, and the nasty ones. */
export const weirdString: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 }).map(codes => String.fromCharCode(...codes)) },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS) }
)

export const weirdKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'polluted', 'id', 'version', 'roles', 'keys', 'grants', 'resources', 'entries', 'agency', 'fields', 'query'),
  weirdString
)

/** Any JSON value, with weird strings and numbers at the edges. */
export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: weirdString },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER + 2, true, false, null, [], {}) },
  { weight: 1, arbitrary: fc.constant({ __proto__: null, polluted: 'yes' }).map(() => JSON.parse('{"__proto__":{"polluted":"yes"}}') as unknown) },
  { weight: 1, arbitrary: fc.constant(JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}') as unknown) }
)

type Path = Array<string | number>

function paths (value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at)
  if (Array.isArray(value)) value.forEach((item, i) => paths(item, [...at, i], out))
  else if (typeof value === 'object' && value !== null) for (const key of Object.keys(value)) paths((value as Record<string, unknown>)[key], [...at, key], out)
  return out
}

function setOwn (target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, so "__proto__" becomes an own key (what JSON.parse would make) rather than a prototype change.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

export interface Edit {
  pick: number
  op: 'delete' | 'replace' | 'add' | 'duplicate' | 'wrap'
  key: string
  value: unknown
}

export const edit: fc.Arbitrary<Edit> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('delete', 'replace', 'replace', 'add', 'duplicate', 'wrap'),
  key: weirdKey,
  value: weirdValue
})

/** A copy of `doc` with the edits applied, each at a path chosen by `pick`. */
export function mutate<T> (doc: T, edits: readonly Edit[]): unknown {
  let root: unknown = structuredClone(doc)
  for (const original of edits) {
    // Values may be shared between runs (constants): never write one into a document and then edit inside it.
    const e = { ...original, value: structuredClone(original.value) }
    const all = paths(root)
    const path = all[e.pick % all.length] as Path
    if (path.length === 0) {
      if (e.op === 'replace') root = e.value
      else if (e.op === 'wrap') root = [root]
      else if (e.op === 'add' && typeof root === 'object' && root !== null && !Array.isArray(root)) setOwn(root as Record<string, unknown>, e.key, e.value)
      continue
    }
    const parent = path.slice(0, -1).reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], root) as Record<string | number, unknown> | unknown[]
    const last = path[path.length - 1] as string | number
    const current = (parent as Record<string | number, unknown>)[last]
    if (Array.isArray(parent)) {
      const i = last as number
      if (e.op === 'delete') parent.splice(i, 1)
      else if (e.op === 'duplicate') parent.splice(i, 0, structuredClone(current))
      else if (e.op === 'wrap') parent[i] = [current]
      else parent[i] = e.value
    } else {
      const obj = parent as Record<string, unknown>
      if (e.op === 'delete') delete obj[last as string]
      else if (e.op === 'add' && typeof current === 'object' && current !== null && !Array.isArray(current)) setOwn(current as Record<string, unknown>, e.key, e.value)
      else if (e.op === 'add') setOwn(obj, e.key, e.value)
      else if (e.op === 'wrap') obj[last as string] = [current]
      else if (e.op === 'duplicate') setOwn(obj, e.key, structuredClone(current))
      else obj[last as string] = e.value
    }
  }
  return root
}

/** encodeURIComponent, with lone surrogates replaced (they have no UTF-8 form); %ED%A0%80 is tried as a constant. */
export function encodeSegment (s: string): string {
  try {
    return encodeURIComponent(s)
  } catch {
    return encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))
  }
}

/** JSON text with a few characters changed: truncations, stray bytes, duplicated keys. */
export const textEdit = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('cut', 'insert', 'delete', 'dupkey'),
  text: fc.oneof(fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '\\u', '\\ud800', 'null', '1e999', '-', '"__proto__":{"polluted":1},', '\u0000'), fc.string({ maxLength: 4 }))
})

export function mutateText (text: string, edits: ReadonlyArray<{ at: number, op: string, text: string }>): string {
  let out = text
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % out.length
    if (e.op === 'cut') out = out.slice(0, at)
    else if (e.op === 'insert') out = out.slice(0, at) + e.text + out.slice(at)
    else if (e.op === 'delete') out = out.slice(0, at) + out.slice(at + Math.max(1, e.text.length))
    // A duplicated key: JSON.parse keeps the last; the gateway must see one value, not two meanings.
    else if (e.op === 'dupkey' && out.startsWith('{')) out = '{"id":"00000000-0000-4000-8000-000000000000",' + out.slice(1)
  }
  return out
}
