// The deployment `govex init` writes: who the members are and the example
// documents, as plain data so tests and docs can see exactly what is made.
import type { Directory, DisclosureCatalog, GatewayConfig, Plan, Role } from '@govex/core'

export interface MemberSpec {
  id: string
  name: string
  roles: Role[]
}

export interface DeploymentIds {
  gateway: string
  operator: string
  approver: string
  auditor: string
  provider: string
  consumer: string
}

export function deploymentIds (prefix: string): DeploymentIds {
  return {
    gateway: `${prefix}.gw.extranet-1`,
    operator: `${prefix}.it-office`,
    approver: `${prefix}.gov`,
    auditor: `${prefix}.audit`,
    provider: `${prefix}.psb`,
    consumer: `${prefix}.mca`
  }
}

export function memberSpecs (ids: DeploymentIds): MemberSpec[] {
  return [
    { id: ids.gateway, name: 'Extranet gateway 1', roles: ['gateway'] },
    { id: ids.operator, name: 'Municipal IT office (operator)', roles: ['operator'] },
    { id: ids.approver, name: 'Municipal government (plan approver)', roles: ['approver'] },
    { id: ids.auditor, name: 'Audit office', roles: ['auditor'] },
    { id: ids.provider, name: 'Public Security Bureau', roles: ['agency'] },
    { id: ids.consumer, name: 'Civil Affairs Bureau', roles: ['agency'] }
  ]
}

/** Providers the example directories point at; start them on these ports. */
export const PROVIDER_PORTS = { provider: 4101, consumer: 4102 } as const

export function exampleDirectories (ids: DeploymentIds): Directory[] {
  return [{
    agency: ids.provider,
    version: 1,
    resources: [{
      id: `${ids.provider}:household-registration`,
      name: 'Household registration',
      description: 'Registered permanent residence of natural persons',
      classification: 'basic:population',
      securityLevel: 'internal',
      sharing: { type: 'conditional', conditions: 'Only for benefit eligibility checks with a case reference' },
      openness: 'closed',
      updateCycle: 'daily',
      items: [
        { name: 'idNumber', type: 'string', description: 'Resident ID number', sensitive: true },
        { name: 'name', type: 'string' },
        { name: 'householdAddress', type: 'string' },
        { name: 'householdType', type: 'string', description: 'urban or rural registration' }
      ],
      query: [{ name: 'idNumber', type: 'string', required: true }],
      endpoint: { url: `http://127.0.0.1:${PROVIDER_PORTS.provider}/household-registration`, timeoutMs: 2000 }
    }]
  }, {
    agency: ids.consumer,
    version: 1,
    resources: [{
      id: `${ids.consumer}:subsistence-allowance`,
      name: 'Minimum living guarantee recipients',
      description: 'Whether a person receives the minimum living guarantee, and how much',
      classification: 'thematic:social-assistance',
      securityLevel: 'internal',
      sharing: { type: 'unconditional' },
      items: [
        { name: 'idNumber', type: 'string', sensitive: true },
        { name: 'allowanceStatus', type: 'string' },
        { name: 'monthlyAmount', type: 'number' }
      ],
      query: [{ name: 'idNumber', type: 'string', required: true }],
      endpoint: { url: `http://127.0.0.1:${PROVIDER_PORTS.consumer}/subsistence-allowance` }
    }]
  }]
}

export function exampleDisclosures (ids: DeploymentIds, today: string): DisclosureCatalog[] {
  return [{
    agency: ids.provider,
    entries: [{ category: 'licensing-matters', title: 'Household registration transfer: conditions, materials, time limits', publishedAt: today }]
  }, {
    agency: ids.consumer,
    entries: [{ category: 'public-services', title: 'Applying for the minimum living guarantee', publishedAt: today }]
  }]
}

/** A draft plan: the consumer may read two fields of the provider's registration, for one purpose. */
export function examplePlan (prefix: string, ids: DeploymentIds, now: Date): Plan {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()))
  const until = new Date(Date.UTC(now.getUTCFullYear() + 1, now.getUTCMonth(), now.getUTCDate()) - 1000)
  const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z')
  return {
    id: `${prefix}-sharing-plan`,
    version: 1,
    title: 'Information sharing plan (draft)',
    validFrom: iso(from),
    validUntil: iso(until),
    grants: [{
      id: 'mca-household',
      consumer: ids.consumer,
      resource: `${ids.provider}:household-registration`,
      fields: ['name', 'householdAddress'],
      purposes: ['minimum-living-guarantee-review'],
      legalBasis: 'Minimum Living Guarantee Measures',
      conditions: { requireCaseRef: true, requireUserId: true },
      quota: { perMinute: 600, perDay: 50000 }
    }]
  }
}

export function exampleConfig (ids: DeploymentIds, files: { keyFile: string, members: string, directories: string[], disclosures: string[] }): GatewayConfig {
  return {
    gatewayId: ids.gateway,
    zone: 'extranet',
    port: 8080,
    keyFile: files.keyFile,
    store: { kind: 'file', dir: './data' },
    bootstrap: { members: files.members, directories: files.directories, disclosures: files.disclosures }
  }
}
