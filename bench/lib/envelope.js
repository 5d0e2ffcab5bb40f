// The request envelope every exchange benchmark sends: the same bytes for
// every target, a fresh UUID each time (govex refuses a replayed id).
import { randomUUID } from 'node:crypto'

export function exchangeBody () {
  return JSON.stringify({
    id: randomUUID(),
    purpose: 'minimum-living-guarantee-review',
    userId: 'officer-4711',
    caseRef: 'MCA-2026-000123',
    fields: ['name', 'householdAddress'],
    query: { idNumber: '120101199001011234' }
  })
}
