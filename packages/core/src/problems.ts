// Validation problems, zod-style: every problem at once, each `{ code, path, message }`.
// `path` is a JSON Pointer into the document ("" for the document itself).

export interface Problem {
  /** stable, kebab-case: `required`, `type`, `unknown-property`, `pattern`, ... or a MODEL.md rule */
  code: string
  /** JSON Pointer (RFC 6901) of the offending value */
  path: string
  message: string
}

export type Result<T> = { ok: true, value: T } | { ok: false, problems: Problem[] }

export function problem (code: string, path: string, message: string): Problem {
  return { code, path, message }
}

/** Appends a JSON Pointer token, escaping `~` and `/`. */
export function pointer (base: string, token: string | number): string {
  return base + '/' + String(token).replace(/~/g, '~0').replace(/\//g, '~1')
}
