import t from 'tap'
import { join } from 'node:path'
import { storeContract } from '../src/store/contract.js'
import { openFileStores } from '../src/store/open.js'

const root = t.testdir()
let runs = 0
let dir = ''

await storeContract(t, 'file', async () => {
  dir = join(root, String(++runs))
  return await openFileStores({ dir, gatewayId: 'tj.gw.test' })
}, {
  reopen: () => openFileStores({ dir, gatewayId: 'tj.gw.test' })
})
