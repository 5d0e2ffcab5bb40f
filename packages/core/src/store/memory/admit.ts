// Admission for one-process stores (memory, file): the replay guard and the
// quota counter live in this process, so checking both and then spending both
// in one synchronous step is atomic — no other request runs in between.
import type { Admission, AdmissionDecision } from '../types.js'
import type { MemoryReplayGuard } from './replay.js'
import type { MemoryQuotaCounter } from './quota.js'
import { envelopeKey } from '../../ids.js'

const ADMITTED: AdmissionDecision = Object.freeze({ ok: true })
const REPLAYED: AdmissionDecision = Object.freeze({ ok: false, reason: 'replay' })

export function admitInMemory (replay: MemoryReplayGuard, quota: MemoryQuotaCounter, admission: Admission): AdmissionDecision {
  const id = envelopeKey(admission.id)
  if (replay.isHeld(id)) return REPLAYED
  const q = admission.quota
  if (q !== undefined) {
    const decision = quota.consumeNow(q.key, q.limits, q.nowMs)
    if (!decision.ok) return { ok: false, reason: 'quota', retryAfterS: decision.retryAfterS, window: decision.window }
  }
  replay.holdNow(id, admission.windowS)
  return ADMITTED
}
