// Leaving the one audit record a request owes (PROTOCOL.md "Audit"): every
// authenticated exchange request, allowed or refused, and every admin change.
// The record is built from the request's trail and appended through the store;
// the caller awaits durability (a 200 exchange is never answered before it).
import { toWellFormedText } from '@govex/core'
import type { AuditDigests, AuditEntry, AuditRecord, AuditLog, ErrorCode } from '@govex/core'
import type { FastifyRequest } from 'fastify'
import type { GatewayMetrics } from './metrics.js'
import { outcomeOf } from './metrics.js'

function wellFormed<T extends AuditEntry> (entry: T): T {
  const fix = (value: unknown): unknown => typeof value === 'string' ? toWellFormedText(value) : Array.isArray(value) ? value.map(fix) : value
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(entry)) out[key] = fix(value)
  return out as T
}

/**
 * The digests of an exchange that was not answered 200: null when it was
 * refused before the forward; once its body went to the provider (a 502 or
 * 504, or a 503 after the answer), the request digest with no response digest,
 * since no data reached the consumer (MODEL.md: fields that do not apply are null).
 */
function forwarded (digests: AuditDigests | null): AuditDigests | null {
  if (digests === null || digests.response === null) return digests
  return { request: digests.request, response: null }
}

export class AuditWriter {
  readonly #log: AuditLog
  readonly #metrics: GatewayMetrics

  constructor (log: AuditLog, metrics: GatewayMetrics) {
    this.#log = log
    this.#metrics = metrics
  }

  /**
   * Appends the request's record unless it has one already; resolves with it,
   * or null when the request owes none (unauthenticated, or a route that is not audited).
   */
  async record (request: FastifyRequest, status: number, code: ErrorCode | null): Promise<AuditRecord | null> {
    const state = request.govex
    if (state === null || state.audited || state.principal === null || state.trail === null) return null
    state.audited = true
    const trail = state.trail
    const outcome = outcomeOf(status)
    let entry: AuditEntry
    if (trail.kind === 'exchange') {
      entry = {
        kind: 'exchange',
        id: state.requestId,
        consumer: state.principal.id,
        provider: trail.provider,
        resource: trail.resource,
        userId: trail.userId,
        purpose: trail.purpose,
        caseRef: trail.caseRef,
        plan: trail.plan,
        grantId: trail.grantId,
        fields: trail.fields,
        outcome,
        code,
        status,
        latencyMs: Math.round((performance.now() - state.start) * 1000) / 1000,
        digests: outcome === 'allowed' ? trail.digests : forwarded(trail.digests)
      }
    } else {
      entry = {
        kind: 'admin',
        id: state.requestId,
        actor: state.principal.id,
        action: trail.action,
        target: trail.target,
        digest: outcome === 'allowed' ? trail.digest : null,
        outcome,
        code,
        status
      }
    }
    const started = performance.now()
    let record: AuditRecord
    try {
      record = await this.#log.append(entry)
    } catch (err) {
      try {
        if ((err as { code?: unknown }).code !== 'GOVEX_ERR_BAD_REQUEST') throw err
        // The entry could not be sealed (a lone surrogate in a string): record it with U+FFFD in its place rather than not at all.
        record = await this.#log.append(wellFormed(entry))
      } catch (final) {
        // Not recorded: let the error answer that follows try again with its own status.
        state.audited = false
        throw final
      }
    }
    this.#metrics.auditAppend.observe({ kind: trail.kind }, (performance.now() - started) / 1000)
    return record
  }
}
