// Types a consumer declares once so that `client.request()` is typed end to end:
// asking for a field the resource does not declare is a compile error.
import type { PlanRef } from '@govex/core'

/** Resource id → the types of its data items, e.g. `{ 'tj.psb:household-registration': { name: string } }`. */
export type ResourceMap = Record<string, Record<string, unknown>>

/** The items of a resource: the declared ones, or any record for an undeclared resource. */
export type ItemsOf<M extends ResourceMap, Id extends string> = Id extends keyof M ? M[Id] : Record<string, unknown>

/** A field name of a resource. */
export type FieldOf<M extends ResourceMap, Id extends string> = keyof ItemsOf<M, Id> & string

/** What the data of an exchange holds for the chosen fields. */
export type Selected<Items, F extends string> = { [K in F & keyof Items]?: Items[K] }

export interface ExchangeRequest<F extends string = string> {
  purpose: string
  /** default: every field the grant allows */
  fields?: readonly F[]
  query?: Record<string, unknown>
  userId?: string
  caseRef?: string
  /** the envelope id; generated when absent. Resending the same id after an answer meets GOVEX_ERR_REPLAY. */
  id?: string
  signal?: AbortSignal
  timeoutMs?: number
}

/** The response envelope of PROTOCOL.md, with `data` typed to the requested fields. */
export interface ExchangeResponse<D> {
  id: string
  requestId: string
  resource: string
  consumer: string
  provider: string
  plan: PlanRef
  grantId: string
  fields: string[]
  data: D | D[] | null
  digests: { request: string, response: string }
  auditSeq: number
}
