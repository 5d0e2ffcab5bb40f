// The audit entry every audit benchmark appends: core's exchangeEntry with the
// fields that vary across consumers, officers, cases and outcomes.
import { exchangeEntry } from '../../packages/core/dist/store/audit-contract.js'

export function benchEntry (i) {
  const denied = i % 10 === 0
  return exchangeEntry({
    consumer: i % 2 === 0 ? 'tj.mca' : 'tj.hrss',
    userId: `officer-${i % 100}`,
    caseRef: `MCA-2026-${String(i).padStart(6, '0')}`,
    outcome: denied ? 'denied' : 'allowed',
    code: denied ? 'GOVEX_ERR_NO_GRANT' : null,
    status: denied ? 403 : 200
  })
}
