// fix-reload-refuses: after the shared store reconnects (a `reload` change),
// the gateway's view may miss changes made elsewhere, so until the full
// rebuild is in it decides nothing on it — an exchange answers 503 before any
// check that reads that view (a 403 on a stale plan would be as wrong as a
// 200), nor authenticates or checks roles on it (a 401 or 403 would be as
// wrong) — and readyz answers 503 so a load balancer routes elsewhere (session
// 6 reviews). Memory stores whose change feed and member list the test drives.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { generateKeyPair, openMemoryStores, signJwt } from '@govex/core'
import type { StoreChange, Stores } from '@govex/core'
import { harness, envelope, exchange } from './helpers/gateway.js'
import { waitFor } from './helpers/wait.js'

const HOUSEHOLD = 'tj.psb:household-registration'

t.test('from a reload until the rebuild is in: exchanges and readyz answer 503, then serve again', async t => {
  const memory = await openMemoryStores({ gatewayId: 'tj.gw.test-1' })
  const listeners: Array<(change: StoreChange) => void> = []
  const gates: Array<() => void> = []
  let hold = false
  const list = memory.members.list.bind(memory.members)
  const stores: Stores = {
    ...memory,
    members: { ...memory.members, get: memory.members.get.bind(memory.members), put: memory.members.put.bind(memory.members), list: async () => { if (hold) await new Promise<void>(resolve => gates.push(resolve)); return await list() } },
    subscribe: listener => { listeners.push(listener); return memory.subscribe(listener) }
  }
  t.teardown(() => memory.close())
  const h = await harness(t, { stores })

  let res = await exchange(h, HOUSEHOLD, envelope())
  t.equal(res.statusCode, 200, 'serving')

  hold = true
  for (const listener of listeners) listener({ kind: 'reload' })
  await waitFor(5000, () => gates.length, n => n > 0)
  const held = envelope()
  res = await exchange(h, HOUSEHOLD, held)
  t.equal(res.statusCode, 503)
  t.match(res.json(), { code: 'GOVEX_ERR_UNAVAILABLE', message: /reloading/ })
  // a caller the stale view knows is authenticated all the same: its exchange is audited, as every authenticated one is
  t.match((await memory.audit.query({}, 1000)).records.at(-1), { kind: 'exchange', id: held.id, consumer: 'tj.mca', outcome: 'error', status: 503, code: 'GOVEX_ERR_UNAVAILABLE' })
  // and an exchange the stale view would refuse is not decided on it either
  res = await exchange(h, HOUSEHOLD, envelope({ purpose: 'not-granted' }))
  t.equal(res.statusCode, 503, 'no 403 from a stale view')
  // nor is a caller: a member (or key, or role) added elsewhere may be what the stale view lacks
  const stranger = generateKeyPair('tj.newcomer-k1')
  const iat = Math.floor(Date.now() / 1000)
  const token = signJwt(stranger.privateJwk, { iss: 'tj.newcomer', aud: 'tj.gw.test-1', iat, exp: iat + 60, jti: randomUUID() })
  res = await exchange(h, HOUSEHOLD, envelope(), { authorization: 'Bearer ' + token })
  t.equal(res.statusCode, 503, 'no 401 for a member the stale view does not know')
  res = await exchange(h, HOUSEHOLD, envelope(), h.actors.operator.auth())
  t.equal(res.statusCode, 503, 'no 403 for roles the stale view holds')
  res = await h.app.inject({ method: 'GET', url: '/v1/members', headers: h.actors.operator.auth() })
  t.equal(res.statusCode, 503, 'nor any /v1 call')
  const ready = await h.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.equal(ready.json().code, 'GOVEX_ERR_UNAVAILABLE')

  hold = false
  for (const open of gates.splice(0)) open()
  await waitFor(5000, async () => (await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, status => status === 200)
  res = await exchange(h, HOUSEHOLD, envelope())
  t.equal(res.statusCode, 200, 'serving again once the rebuild is in')
})
