// Compile-time checks of the typed client (run by test/types.test.ts through tsc).
import { createClient } from '../../src/index.js'

interface Resources {
  'tj.psb:household-registration': { name: string, householdAddress: string, birthDate: string }
  [id: string]: Record<string, unknown>
}

const client = createClient<Resources>({ gatewayUrl: 'http://127.0.0.1:8080', memberId: 'tj.mca', gatewayId: 'tj.gw.extranet-1', privateKey: '/dev/null' })

export async function typed (): Promise<void> {
  const res = await client.request('tj.psb:household-registration', { purpose: 'review', fields: ['name', 'householdAddress'] })
  const data = res.data
  if (data !== null && !Array.isArray(data)) {
    const name: string | undefined = data.name
    const address: string | undefined = data.householdAddress
    // @ts-expect-error birthDate was not requested, so it is not in the data type
    const birth = data.birthDate
    void name; void address; void birth
  }
  // @ts-expect-error idNumber is not a declared item of the resource
  await client.request('tj.psb:household-registration', { purpose: 'review', fields: ['name', 'idNumber'] })
}
