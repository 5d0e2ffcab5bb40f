import t from 'tap'
import { storeContract } from '../src/store/contract.js'
import { openMemoryStores } from '../src/store/open.js'
import type { Stores } from '../src/store/types.js'

// The two runs share nothing (each opens its own stores) and spend most of
// their time waiting out the contract's replay windows: run them side by side.
t.jobs = 2

await Promise.all([
  storeContract(t, 'memory', () => openMemoryStores({ gatewayId: 'tj.gw.test' })),

  // Shared stores (Redis) tell changes a little later, through their channel:
  // the contract must wait for them, not expect them before put() resolves.
  storeContract(t, 'memory with late notifications', async (): Promise<Stores> => {
    const stores = await openMemoryStores({ gatewayId: 'tj.gw.test' })
    return { ...stores, subscribe: listener => stores.subscribe(change => { setTimeout(() => listener(change), 5) }) }
  })
])
