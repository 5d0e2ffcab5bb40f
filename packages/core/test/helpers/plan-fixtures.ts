// Fixtures for the plan, approval and authorize() tests: members with fresh
// keys, a small catalog and a plan over it.
import { compileCatalog } from '../../src/catalog.js'
import { generateKeyPair } from '../../src/keys.js'
import type { Directory, Resource } from '../../src/schemas/directory.js'
import type { Member, PrivateJwk } from '../../src/schemas/member.js'
import type { Grant, Plan } from '../../src/schemas/plan.js'

export interface KeyedMember {
  member: Member
  key: PrivateJwk
}

export function keyedMember (id: string, roles: Member['roles'], kid = 'k1'): KeyedMember {
  const { privateJwk, publicJwk } = generateKeyPair(kid)
  return { member: { id, name: id, roles, keys: [publicJwk] }, key: privateJwk }
}

export function resource (id: string, overrides: Partial<Resource> = {}): Resource {
  return {
    id,
    name: id,
    description: 'test resource',
    classification: 'basic:population',
    securityLevel: 'internal',
    sharing: { type: 'unconditional' },
    items: [{ name: 'idNumber', type: 'string' }, { name: 'name', type: 'string' }, { name: 'householdAddress', type: 'string' }],
    endpoint: { url: 'http://127.0.0.1:4001/x' },
    ...overrides
  }
}

export function directory (agency: string, resources: Resource[]): Directory {
  return { agency, version: 1, resources }
}

export const HOUSEHOLD = 'tj.psb:household-registration'

export function catalogFixture () {
  return compileCatalog([
    directory('tj.psb', [
      resource(HOUSEHOLD, { query: [{ name: 'idNumber', type: 'string', required: true }, { name: 'asOf', type: 'date' }] }),
      resource('tj.psb:public-notices', { securityLevel: 'public' }),
      resource('tj.psb:criminal-records', { securityLevel: 'confidential' }),
      resource('tj.psb:hidden', { sharing: { type: 'none' } })
    ])
  ])
}

export function grant (overrides: Partial<Grant> & Pick<Grant, 'id'>): Grant {
  return {
    consumer: 'tj.mca',
    resource: HOUSEHOLD,
    fields: ['name', 'householdAddress'],
    purposes: ['minimum-living-guarantee-review'],
    ...overrides
  }
}

export function plan (grants: Grant[], overrides: Partial<Plan> = {}): Plan {
  return {
    id: 'tj-sharing-plan',
    version: 3,
    title: 'Tianjin government information sharing plan 2026',
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2026-12-31T23:59:59Z',
    grants,
    ...overrides
  }
}
