// Documents for the Redis tests: small but schema-shaped members, plans and audit entries.
import { digestOf, planDocument } from '@govex/core'
import type { AuditEntry, Member, Plan, PlanState, PlanStatus } from '@govex/core'

export function member (id: string): Member {
  return { id, name: `Agency ${id}`, roles: ['agency'], keys: [{ kid: 'k1', kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) }] }
}

export function planState (id: string, version: number, status: PlanStatus = 'draft', extra: Partial<PlanState> = {}): PlanState {
  const plan: Plan = {
    id,
    version,
    title: `Plan ${id} v${version}`,
    validFrom: '2026-01-01T00:00:00.000Z',
    validUntil: '2026-12-31T23:59:59.000Z',
    grants: []
  }
  return { ...plan, status, digest: digestOf(planDocument(plan)), approvals: [], activatedAt: status === 'active' ? '2026-02-01T00:00:00.000Z' : null, ...extra }
}

export function exchange (consumer: string, provider: string, n = 0, outcome: 'allowed' | 'denied' | 'error' = 'allowed'): AuditEntry {
  return {
    kind: 'exchange',
    id: `0193a1c2-7c1e-7a35-9b7e-${String(n).padStart(12, '0')}`,
    consumer,
    provider,
    resource: `${provider}:household-registration`,
    userId: 'officer-4711',
    purpose: 'minimum-living-guarantee-review',
    caseRef: `CASE-${n}`,
    plan: { id: 'tj-sharing-plan', version: 3 },
    grantId: 'g1',
    fields: ['name'],
    outcome,
    code: outcome === 'allowed' ? null : 'GOVEX_ERR_NO_GRANT',
    status: outcome === 'allowed' ? 200 : outcome === 'denied' ? 403 : 502,
    latencyMs: 1.5,
    digests: null
  }
}

export function admin (actor: string, n = 0): AuditEntry {
  return {
    kind: 'admin',
    id: `0193a1c2-7c1e-7a35-9b7e-${String(n).padStart(12, '0')}`,
    actor,
    action: 'member.put',
    target: 'tj.psb',
    digest: null,
    outcome: 'allowed',
    code: null,
    status: 200
  }
}

export function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** Resolves with the first value `next` yields that passes `test`, or rejects after `ms`. */
export async function eventually<T> (ms: number, probe: () => Promise<T> | T, test: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (test(value)) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms (last value ${JSON.stringify(value)})`)
    await sleep(20)
  }
}
