// A naive authorization check written apart from core's authorize(): straight
// from PROTOCOL.md "Exchange" and MODEL.md, scanning plain arrays, no index.
// The property tests hold the gateway to it.
import type { Directory, Plan } from '@govex/core'

export interface ReferenceRequest {
  consumer: string
  resource: string
  purpose: string
  fields?: string[] | undefined
  userId?: unknown
  caseRef?: unknown
  query?: Record<string, unknown> | undefined
}

export interface ReferenceAnswer {
  allow: boolean
  code: string | null
  grantId?: string
  fields?: string[]
}

function present (value: unknown): boolean {
  return typeof value === 'string' && value !== ''
}

export function referenceDecision (directories: Directory[], plan: Plan | null, zone: 'extranet' | 'intranet', request: ReferenceRequest, nowMs: number): ReferenceAnswer {
  let resource: Directory['resources'][number] | undefined
  for (const d of directories) for (const r of d.resources) if (r.id === request.resource) resource = r
  if (resource === undefined) return { allow: false, code: 'GOVEX_ERR_NOT_FOUND' }
  if (zone === 'extranet' && resource.securityLevel === 'confidential') return { allow: false, code: 'GOVEX_ERR_ZONE' }
  if (plan === null) return { allow: false, code: 'GOVEX_ERR_NO_GRANT' }
  const mine = plan.grants.filter(g => g.consumer === request.consumer && g.resource === request.resource)
  if (mine.length === 0) return { allow: false, code: 'GOVEX_ERR_NO_GRANT' }
  const inForce = mine.filter(g => {
    const from = Date.parse(g.validFrom ?? plan.validFrom)
    const until = Date.parse(g.validUntil ?? plan.validUntil)
    return nowMs >= from && nowMs <= until
  })
  const grant = inForce.find(g => g.purposes.includes(request.purpose))
  if (grant === undefined) {
    // A grant that lists the purpose but is outside its validity is "no active grant", not "purpose not granted".
    const listsPurpose = mine.some(g => g.purposes.includes(request.purpose))
    return { allow: false, code: inForce.length === 0 || listsPurpose ? 'GOVEX_ERR_NO_GRANT' : 'GOVEX_ERR_PURPOSE_NOT_GRANTED' }
  }
  const fields = request.fields ?? grant.fields
  if (fields.some(f => !grant.fields.includes(f))) return { allow: false, code: 'GOVEX_ERR_FIELDS_NOT_GRANTED' }
  if (grant.conditions?.requireCaseRef === true && !present(request.caseRef)) return { allow: false, code: 'GOVEX_ERR_CONDITION_UNMET' }
  if (grant.conditions?.requireUserId === true && !present(request.userId)) return { allow: false, code: 'GOVEX_ERR_CONDITION_UNMET' }
  for (const q of resource.query ?? []) {
    if (q.required !== true) continue
    const value = request.query !== undefined && Object.hasOwn(request.query, q.name) ? request.query[q.name] : undefined
    if (value === undefined || value === null) return { allow: false, code: 'GOVEX_ERR_BAD_REQUEST' }
  }
  return { allow: true, code: null, grantId: grant.id, fields }
}
