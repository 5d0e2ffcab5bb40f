// Errors the SDK throws. Match on `code` (undici's habit), never on the class:
// gateway refusals carry the PROTOCOL.md code the gateway answered; failures
// that never reached an answer carry one of the SDK's own codes below, and
// `outcomeUnknown` says whether an exchange may have happened all the same.
import type { Problem } from '@govex/core'

/** Codes for failures on the client side, before or instead of a gateway answer. */
export const SDK_ERROR_CODES = {
  /** the request took longer than `timeoutMs` */
  GOVEX_ERR_CLIENT_TIMEOUT: 'the gateway did not answer within timeoutMs',
  /** the caller's AbortSignal fired */
  GOVEX_ERR_CLIENT_ABORTED: 'the request was aborted by its AbortSignal',
  /** no connection could be made, after the safe retries: an exchange request was not sent */
  GOVEX_ERR_CLIENT_NETWORK: 'the gateway could not be reached; check gatewayUrl and the network',
  /** the connection failed after an exchange request was sent: it may have been processed */
  GOVEX_ERR_CLIENT_OUTCOME_UNKNOWN: 'the connection to the gateway failed after the exchange request was sent',
  /** the gateway answered something that is not govex JSON */
  GOVEX_ERR_CLIENT_BAD_RESPONSE: 'the gateway answered something that is not a govex response; check gatewayUrl',
  /** options given to createClient() or a request are wrong */
  GOVEX_ERR_CLIENT_OPTIONS: 'an option is missing or wrong'
} as const

export type SdkErrorCode = keyof typeof SDK_ERROR_CODES

export interface GovexRequestErrorInit {
  code: string
  message: string
  statusCode?: number | undefined
  requestId?: string | undefined
  problems?: Problem[] | undefined
  retryAfterS?: number | undefined
  outcomeUnknown?: boolean | undefined
  cause?: unknown
}

/** An exchange or API call that did not succeed. */
export class GovexRequestError extends Error {
  /** a PROTOCOL.md code (`GOVEX_ERR_NO_GRANT`, ...) or an SDK code (`GOVEX_ERR_CLIENT_TIMEOUT`, ...) */
  readonly code: string
  /** HTTP status of the gateway's answer; undefined when there was none */
  readonly statusCode: number | undefined
  /** the envelope / request id the gateway recorded (also in its audit log) */
  readonly requestId: string | undefined
  /** every validation problem, for 400 and 422 answers */
  readonly problems: Problem[] | undefined
  /** seconds to wait, for 429 answers */
  readonly retryAfterS: number | undefined
  /**
   * true when an exchange request was sent but no verdict of the gateway came
   * back (a connection failure, timeout or abort after sending, or an answer
   * that is not govex JSON): the exchange may have happened. Never resend the
   * envelope; have its id (`requestId`) looked up in the audit log, or send a
   * new id for a new exchange. false when the gateway answered, or nothing was sent.
   */
  readonly outcomeUnknown: boolean

  constructor (init: GovexRequestErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.name = 'GovexRequestError'
    this.code = init.code
    this.statusCode = init.statusCode
    this.requestId = init.requestId
    this.problems = init.problems
    this.retryAfterS = init.retryAfterS
    this.outcomeUnknown = init.outcomeUnknown ?? false
  }
}

export function optionsError (message: string): GovexRequestError {
  return new GovexRequestError({ code: 'GOVEX_ERR_CLIENT_OPTIONS', message })
}
