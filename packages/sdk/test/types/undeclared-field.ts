// Must NOT compile: asks for a field the resource does not declare.
import { createClient } from '../../src/index.js'

const client = createClient<{ 'tj.psb:household-registration': { name: string } }>({ gatewayUrl: 'http://127.0.0.1:8080', memberId: 'tj.mca', gatewayId: 'gw', privateKey: '/dev/null' })
export const p = client.request('tj.psb:household-registration', { purpose: 'review', fields: ['salary'] })
