// A small HTTP actor for the demo: calls the gateway as a given member, with a
// fresh token signed by that member's key (global fetch, no extra dependency).
import type { PrivateJwk } from '@govex/core'
import { makeToken } from './commands/token.js'

export interface Answer {
  status: number
  body: unknown
}

export class Actor {
  constructor (
    readonly member: string,
    private readonly key: PrivateJwk,
    private readonly baseUrl: string,
    private readonly audience: string
  ) {}

  token (ttlS = 300): { token: string, exp: number } {
    return makeToken(this.key, { iss: this.member, aud: this.audience, ttlS })
  }

  async call (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { authorization: 'Bearer ' + this.token(60).token }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000)
    })
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text === '' ? null : JSON.parse(text) as unknown
    } catch {
      // not JSON: keep the text (e.g. metrics)
    }
    return { status: res.status, body: parsed }
  }
}

/** `code` and `message` of a PROTOCOL.md error body, if it is one. */
export function errorOf (body: unknown): { code: string, message: string } | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const { code, message } = body as { code?: unknown, message?: unknown }
  if (typeof code !== 'string') return undefined
  return { code, message: typeof message === 'string' ? message : '' }
}
