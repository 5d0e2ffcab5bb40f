// JSON that parses but cannot be digested or audited: a lone UTF-16 surrogate
// (`"\ud800"`: not Unicode text, and RFC 8785 canonical JSON refuses it) or a
// number beyond a double (`1e400` parses as Infinity, which JSON cannot carry
// back). canonicalJson refuses both; the gateway's body parser refuses them
// earlier with a 400 naming where they are, so no document, envelope or audit
// record downstream ever meets one. The text is scanned first and the value
// walked only when the text could hold one.

// What the text must hold for the value to need a walk: a \uD800-\uDFFF
// escape (may be a well-formed pair: the walk decides), or a number that may
// overflow. A number with I integer digits and exponent E is about
// 10^(I - 1 + E), beyond a double from 10^308.3: so either E ≥ 100 (a digit
// then an exponent of three digits or more) or, with E ≤ 99, I ≥ 210 (a run
// of 210 digits). Three small expressions, not one alternation: V8 scans each
// of these quickly, and an alternation of the three several times slower.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/
const BIG_EXPONENT = /[0-9][eE]\+?[0-9]{3}/
const LONG_DIGITS = /[0-9]{210}/

// String.prototype.isWellFormed / toWellFormed are in Node 20 but not in the ES2023 lib we compile against.
type WellFormed = string & { isWellFormed (): boolean, toWellFormed (): string }

/** Whether a string is Unicode text (no lone UTF-16 surrogate). */
export function isWellFormedText (text: string): boolean {
  return (text as WellFormed).isWellFormed()
}

/** The string with each lone surrogate replaced by U+FFFD. */
export function toWellFormedText (text: string): string {
  return (text as WellFormed).toWellFormed()
}

function escapePointer (key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

function describe (text: string): string {
  return text.replace(/[\uD800-\uDFFF]/g, c => '\\u' + c.charCodeAt(0).toString(16).toUpperCase())
}

export interface ValueProblem {
  path: string
  message: string
}

type Step = { value: unknown, path: string } | { badKey: string }

/**
 * The first unrepresentable value in document order, depth-first without
 * recursion: a body nested as deep as its size allows is walked to the bottom
 * (a depth cut-off let `[[[…[1e400]…]]]` through to the provider as null).
 */
function walk (root: unknown): ValueProblem | undefined {
  const stack: Step[] = [{ value: root, path: '' }]
  for (let step = stack.pop(); step !== undefined; step = stack.pop()) {
    if ('badKey' in step) return { path: step.badKey, message: 'is a key holding a lone UTF-16 surrogate, which is not Unicode text' }
    const { value, path } = step
    if (typeof value === 'string') {
      if (!isWellFormedText(value)) return { path, message: `holds a lone UTF-16 surrogate (${describe(value.slice(0, 40))}), which is not Unicode text; send well-formed text` }
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return { path, message: 'is a number too large for JSON to carry; send a smaller number or a string' }
    } else if (Array.isArray(value)) {
      // children pushed last first, so they pop in document order
      for (let k = value.length - 1; k >= 0; k--) stack.push({ value: value[k], path: path + '/' + String(k) })
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value)
      for (let k = keys.length - 1; k >= 0; k--) {
        const key = keys[k] as string
        stack.push({ value: (value as Record<string, unknown>)[key], path: path + '/' + escapePointer(key) })
        if (!isWellFormedText(key)) stack.push({ badKey: path + '/' + escapePointer(describe(key)) })
      }
    }
  }
  return undefined
}

/**
 * How many levels of objects and arrays a JSON body may nest, the body itself
 * being the first: a request body the gateway takes, and a provider's answer
 * `{ "data": … }` (so `data` may nest one level less). JSON.parse takes any
 * depth, JSON.stringify only as deep as the stack lets it (about 3,000 to
 * 4,000 levels, depending on the stack in use): a fixed limit far below that,
 * and far above any document's schema, makes the refusal the same everywhere.
 * It also keeps what the gateway passes on within it: the forwarded body and
 * the 200 envelope hold `query` and `data` at the second level, as they came.
 */
export const MAX_JSON_DEPTH = 64

/** Whether `value` nests more levels of objects and arrays than `room`. Allocates nothing. */
function deeper (value: unknown, room: number): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (room === 0) return true
  const below = room - 1
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (deeper(value[i], below)) return true
    return false
  }
  const object = value as Record<string, unknown>
  for (const key in object) if (deeper(object[key], below)) return true
  return false
}

/** The path of the first object or array (document order) beyond `room` levels; only called once one is known to be there. */
function pathBeyond (value: unknown, room: number, path: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  if (room === 0) return path
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = pathBeyond(value[i], room - 1, path + '/' + String(i))
      if (found !== undefined) return found
    }
    return undefined
  }
  const object = value as Record<string, unknown>
  for (const key in object) {
    const found = pathBeyond(object[key], room - 1, path + '/' + escapePointer(describe(key)))
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * The first object or array of a parsed JSON value that opens a level beyond
 * `maxDepth` (the value itself is level 1), or undefined. Recursion never
 * goes deeper than `maxDepth`, and nothing is allocated unless one is found:
 * bodies on the exchange path pay a few type checks per value.
 */
export function nestedBeyond (value: unknown, maxDepth: number = MAX_JSON_DEPTH): ValueProblem | undefined {
  if (!deeper(value, maxDepth)) return undefined
  return { path: pathBeyond(value, maxDepth, '') ?? '', message: `opens level ${maxDepth + 1} of nested objects and arrays, beyond the limit of ${maxDepth}` }
}

/** The first value of a parsed body that JSON text cannot faithfully hold, or undefined. */
export function unrepresentable (text: string, value: unknown): ValueProblem | undefined {
  if (!SURROGATE_ESCAPE.test(text) && !BIG_EXPONENT.test(text) && (text.length < 210 || !LONG_DIGITS.test(text))) return undefined
  return walk(value)
}
