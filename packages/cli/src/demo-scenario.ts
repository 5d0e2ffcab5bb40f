// The exchanges `govex demo` walks through on the Tianjin example: one story per
// line of PROTOCOL.md's check order, each with the answer it must get.

export interface ExchangeStep {
  title: string
  consumer: string
  resource: string
  /** the envelope without `id` (a fresh UUID is added), or the index of an earlier step to resend as is */
  envelope: Record<string, unknown> | { replayOf: number }
  expect: { status: number, code?: string }
}

const CASE = { userId: 'officer-4711', caseRef: 'MCA-2026-000123' }
const WANG = { idNumber: '120102197803140427' }
const HOUSEHOLD = 'tj.psb:household-registration'
const DIBAO = 'minimum-living-guarantee-review'

export const TIANJIN_EXCHANGES: readonly ExchangeStep[] = [
  {
    title: 'allowed, minimised to the granted fields',
    consumer: 'tj.mca',
    resource: HOUSEHOLD,
    envelope: { purpose: DIBAO, ...CASE, query: WANG },
    expect: { status: 200 }
  },
  {
    title: 'allowed, another agency and grant',
    consumer: 'tj.hrss',
    resource: 'tj.psb:resident-id-card-status',
    envelope: { purpose: 'employment-registration', userId: 'hrss-officer-12', query: WANG },
    expect: { status: 200 }
  },
  {
    title: 'refused: no grant for this consumer',
    consumer: 'tj.hrss',
    resource: HOUSEHOLD,
    envelope: { purpose: 'employment-registration', userId: 'hrss-officer-12', caseRef: 'HRSS-2026-77', query: WANG },
    expect: { status: 403, code: 'GOVEX_ERR_NO_GRANT' }
  },
  {
    title: 'refused: purpose not granted',
    consumer: 'tj.mca',
    resource: HOUSEHOLD,
    envelope: { purpose: 'marriage-registration-check', ...CASE, query: WANG },
    expect: { status: 403, code: 'GOVEX_ERR_PURPOSE_NOT_GRANTED' }
  },
  {
    title: 'refused: fields not granted',
    consumer: 'tj.mca',
    resource: HOUSEHOLD,
    envelope: { purpose: DIBAO, ...CASE, fields: ['name', 'idNumber', 'birthDate'], query: WANG },
    expect: { status: 403, code: 'GOVEX_ERR_FIELDS_NOT_GRANTED' }
  },
  {
    title: 'refused: the grant requires a caseRef',
    consumer: 'tj.mca',
    resource: HOUSEHOLD,
    envelope: { purpose: DIBAO, userId: CASE.userId, query: WANG },
    expect: { status: 403, code: 'GOVEX_ERR_CONDITION_UNMET' }
  },
  {
    title: 'refused: replay of the first envelope',
    consumer: 'tj.mca',
    resource: HOUSEHOLD,
    envelope: { replayOf: 0 },
    expect: { status: 409, code: 'GOVEX_ERR_REPLAY' }
  },
  {
    title: 'refused: confidential resource on an extranet gateway',
    consumer: 'tj.psb',
    resource: 'tj.hrss:personnel-files-of-civil-servants',
    envelope: { purpose: 'civil-servant-background-review', userId: 'psb-officer-3', caseRef: 'PSB-2026-0042', query: { idNumber: '120101196511020174' } },
    expect: { status: 403, code: 'GOVEX_ERR_ZONE' }
  }
]

/** The exchange the "Try it" curl line suggests (a different resident and case). */
export const TRY_IT_EXCHANGE = {
  consumer: 'tj.mca',
  resource: HOUSEHOLD,
  envelope: { purpose: DIBAO, userId: CASE.userId, caseRef: 'MCA-2026-000124', query: { idNumber: '120101196511020174' } }
}
