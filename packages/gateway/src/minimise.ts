// What a provider may answer and what the consumer gets of it (PROTOCOL.md
// "Exchange"): 200 with JSON `{ "data": object | array of objects | null }`,
// anything else a 502 that never repeats the provider's words; then every key
// outside the granted fields removed, in each record of an array.
import { isUtf8 } from 'node:buffer'
import type { ResponseData } from '@govex/core'
import { httpError } from './errors.js'
import type { UpstreamAnswer } from './forward.js'

type Row = Record<string, unknown>

function isRow (value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function refuse (provider: string, why: string): Error {
  return httpError('GOVEX_ERR_UPSTREAM', `${provider} did not answer as a govex provider (${why}); its agency has been told in the gateway log`)
}

/** The `data` of a provider's answer; a coded 502 when the answer is not one. */
export function providerData (provider: string, answer: UpstreamAnswer): ResponseData {
  if (answer.status !== 200) throw refuse(provider, `HTTP ${answer.status}`)
  // JSON text is UTF-8 (RFC 8259): decoding other bytes would put U+FFFD in data the provider never sent.
  if (!isUtf8(answer.body)) throw refuse(provider, 'the body is not UTF-8 text')
  let parsed: unknown
  try {
    parsed = JSON.parse(answer.body.toString('utf8'))
  } catch {
    throw refuse(provider, 'the body is not JSON')
  }
  if (!isRow(parsed) || !Object.hasOwn(parsed, 'data')) throw refuse(provider, 'the body has no "data"')
  const data = parsed.data
  if (data === null || isRow(data)) return data
  if (Array.isArray(data)) {
    for (const row of data) if (!isRow(row)) throw refuse(provider, '"data" is an array of something other than objects')
    return data as Row[]
  }
  throw refuse(provider, '"data" is neither an object, an array of objects nor null')
}

function pick (row: Row, fields: readonly string[]): Row {
  const out: Row = {}
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as string
    if (Object.hasOwn(row, field)) out[field] = row[field]
  }
  return out
}

/** `data` with only the given fields, in their order; arrays row by row; null stays null. */
export function minimise (data: ResponseData, fields: readonly string[]): ResponseData {
  if (data === null) return null
  if (Array.isArray(data)) return data.map(row => pick(row, fields))
  return pick(data, fields)
}
