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

/** The first value of a parsed body that JSON text cannot faithfully hold, or undefined. */
export function unrepresentable (text: string, value: unknown): ValueProblem | undefined {
  if (!SURROGATE_ESCAPE.test(text) && !BIG_EXPONENT.test(text) && (text.length < 210 || !LONG_DIGITS.test(text))) return undefined
  return walk(value)
}
