// A small deployment for gateway tests, made at test time (keys are never
// committed): a gateway, an operator, an approver, an auditor and three agencies
// with their keys, member list, directories and disclosure catalogs written to a
// temporary folder with a config that bootstraps them; two provider servers on
// real sockets whose behaviour each test sets.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { generateKeyPair, signJwt } from '@govex/core'
import type { Directory, DisclosureCatalog, Member, Plan, PrivateJwk, PublicJwk, Role } from '@govex/core'
import { resolveConfig } from '../../src/index.js'
import type { ResolvedConfig } from '../../src/index.js'
import { startProvider } from './provider.js'
import type { Provider } from './provider.js'

export const GATEWAY_ID = 'tj.gw.test-1'

export interface Actor {
  id: string
  roles: Role[]
  privateJwk: PrivateJwk
  publicJwk: PublicJwk
  member: Member
  /** a fresh Bearer token for the gateway (claims may be overridden) */
  token (claims?: Record<string, unknown>): string
  /** { authorization: 'Bearer …' } */
  auth (claims?: Record<string, unknown>): Record<string, string>
}

function actor (id: string, roles: Role[], audience = GATEWAY_ID): Actor {
  const { privateJwk, publicJwk } = generateKeyPair(`${id}-k1`)
  const member: Member = { id, name: `Test member ${id}`, roles, keys: [publicJwk] }
  const token = (claims: Record<string, unknown> = {}): string => {
    const iat = Math.floor(Date.now() / 1000)
    return signJwt(privateJwk, { iss: id, aud: audience, iat, exp: iat + 120, jti: randomUUID(), ...claims })
  }
  return { id, roles, privateJwk, publicJwk, member, token, auth: claims => ({ authorization: 'Bearer ' + token(claims) }) }
}

export interface Actors {
  gateway: Actor
  operator: Actor
  approver: Actor
  auditor: Actor
  psb: Actor
  mca: Actor
  hrss: Actor
}

export function makeActors (): Actors {
  return {
    gateway: actor(GATEWAY_ID, ['gateway']),
    operator: actor('tj.it-office', ['operator']),
    approver: actor('tj.gov', ['approver']),
    auditor: actor('tj.audit', ['auditor']),
    psb: actor('tj.psb', ['agency']),
    mca: actor('tj.mca', ['agency']),
    hrss: actor('tj.hrss', ['agency'])
  }
}

export function psbDirectory (psbUrl: string): Directory {
  return {
    agency: 'tj.psb',
    version: 1,
    resources: [{
      id: 'tj.psb:household-registration',
      name: 'Household registration',
      description: 'Registered permanent residence of natural persons',
      classification: 'basic:population',
      securityLevel: 'internal',
      sharing: { type: 'conditional', conditions: 'Only for benefit eligibility checks' },
      items: [
        { name: 'idNumber', type: 'string', sensitive: true },
        { name: 'name', type: 'string' },
        { name: 'householdAddress', type: 'string' },
        { name: 'birthDate', type: 'date' }
      ],
      query: [{ name: 'idNumber', type: 'string', required: true }],
      endpoint: { url: psbUrl + '/household', timeoutMs: 1000 }
    }, {
      id: 'tj.psb:residents-by-street',
      name: 'Residents by street',
      description: 'Every registered resident of a street',
      classification: 'basic:population',
      securityLevel: 'internal',
      sharing: { type: 'unconditional' },
      items: [
        { name: 'name', type: 'string' },
        { name: 'idNumber', type: 'string', sensitive: true },
        { name: 'street', type: 'string' }
      ],
      endpoint: { url: psbUrl + '/residents' }
    }, {
      id: 'tj.psb:case-files',
      name: 'Criminal case files',
      description: 'Confidential case files',
      classification: 'departmental',
      securityLevel: 'confidential',
      sharing: { type: 'conditional', conditions: 'Court order' },
      items: [{ name: 'summary', type: 'string' }],
      endpoint: { url: psbUrl + '/cases' }
    }]
  }
}

export function hrssDirectory (hrssUrl: string): Directory {
  return {
    agency: 'tj.hrss',
    version: 1,
    resources: [{
      id: 'tj.hrss:social-insurance',
      name: 'Social insurance contributions',
      description: 'Contribution status of insured persons',
      classification: 'basic:population',
      securityLevel: 'internal',
      sharing: { type: 'unconditional' },
      items: [
        { name: 'contributionStatus', type: 'string' },
        { name: 'employerName', type: 'string' },
        { name: 'name', type: 'string' }
      ],
      query: [{ name: 'idNumber', type: 'string', required: true }],
      endpoint: { url: hrssUrl + '/insurance' }
    }]
  }
}

export const PURPOSE = 'minimum-living-guarantee-review'

export function samplePlan (version = 1, overrides: Partial<Plan> = {}): Plan {
  return {
    id: 'tj-sharing-plan',
    version,
    title: 'Test sharing plan',
    validFrom: '2020-01-01T00:00:00Z',
    validUntil: '2099-12-31T23:59:59Z',
    grants: [{
      id: 'mca-household',
      consumer: 'tj.mca',
      resource: 'tj.psb:household-registration',
      fields: ['name', 'householdAddress'],
      purposes: [PURPOSE],
      conditions: { requireCaseRef: true }
    }, {
      id: 'mca-residents',
      consumer: 'tj.mca',
      resource: 'tj.psb:residents-by-street',
      fields: ['name', 'street'],
      purposes: ['street-survey']
    }, {
      id: 'mca-insurance',
      consumer: 'tj.mca',
      resource: 'tj.hrss:social-insurance',
      fields: ['contributionStatus'],
      purposes: [PURPOSE],
      quota: { perMinute: 2 }
    }, {
      id: 'mca-household-expired',
      consumer: 'tj.mca',
      resource: 'tj.psb:household-registration',
      fields: ['name'],
      purposes: ['old-review'],
      validFrom: '2020-01-01T00:00:00Z',
      validUntil: '2020-12-31T23:59:59Z'
    }],
    ...overrides
  }
}

export function disclosure (agency: string): DisclosureCatalog {
  return {
    agency,
    entries: [
      { category: 'functions-and-contacts', title: `About ${agency} <script>alert(1)</script>`, publishedAt: '2026-01-01', url: 'https://example.gov/about', summary: 'Who we are & what we do' },
      { category: 'licensing-matters', title: 'Transfer of residence', publishedAt: '2026-03-01' }
    ]
  }
}

export interface Deployment {
  dir: string
  configFile: string
  config: ResolvedConfig
  raw: Record<string, unknown>
  actors: Actors
  psb: Provider
  hrss: Provider
  cleanup (): Promise<void>
}

export interface DeploymentOptions {
  /** edits to the raw config before it is written */
  config?: (raw: Record<string, unknown>) => void
  zone?: 'extranet' | 'intranet'
}

/** Writes a deployment folder and starts its two providers. */
export async function createDeployment (options: DeploymentOptions = {}): Promise<Deployment> {
  const dir = await mkdtemp(join(tmpdir(), 'govex-gw-'))
  const actors = makeActors()
  const psb = await startProvider(actors.gateway.publicJwk, 'tj.psb')
  const hrss = await startProvider(actors.gateway.publicJwk, 'tj.hrss')
  await mkdir(join(dir, 'keys'))
  await mkdir(join(dir, 'seed'))
  await writeFile(join(dir, 'keys', 'gateway.key.json'), JSON.stringify(actors.gateway.privateJwk))
  await writeFile(join(dir, 'seed', 'members.json'), JSON.stringify(Object.values(actors).map(a => a.member)))
  await writeFile(join(dir, 'seed', 'psb.json'), JSON.stringify(psbDirectory(psb.url)))
  await writeFile(join(dir, 'seed', 'hrss.json'), JSON.stringify(hrssDirectory(hrss.url)))
  await writeFile(join(dir, 'seed', 'psb.disclosure.json'), JSON.stringify(disclosure('tj.psb')))
  const raw: Record<string, unknown> = {
    gatewayId: GATEWAY_ID,
    zone: options.zone ?? 'extranet',
    port: 0,
    keyFile: './keys/gateway.key.json',
    store: { kind: 'file', dir: './data' },
    upstream: { allowHosts: ['127.0.0.1', 'localhost'] },
    bootstrap: {
      members: './seed/members.json',
      directories: ['./seed/psb.json', './seed/hrss.json'],
      disclosures: ['./seed/psb.disclosure.json']
    },
    limits: { upstreamTimeoutMs: 1000, upstreamBodyBytes: 64 * 1024 },
    log: { level: 'silent' }
  }
  options.config?.(raw)
  const configFile = join(dir, 'govex.config.json')
  await writeFile(configFile, JSON.stringify(raw, null, 2))
  const config = resolveConfig(raw, { dir, file: configFile })
  return {
    dir,
    configFile,
    config,
    raw,
    actors,
    psb,
    hrss,
    async cleanup () {
      await psb.close()
      await hrss.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
