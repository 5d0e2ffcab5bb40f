import t from 'tap'
import { storeContract } from '../src/store/contract.js'
import { openMemoryStores } from '../src/store/open.js'

await storeContract(t, 'memory', () => openMemoryStores({ gatewayId: 'tj.gw.test' }))
