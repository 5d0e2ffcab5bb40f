// A file-store gateway keeps its replay guard and quota counters in memory; a
// restart must forget neither (PROTOCOL.md: 409 for an envelope id used within
// the window; quotas per rolling minute and UTC day). Both come back from the
// audit log when the store opens.
import t from 'tap'
import { buildGateway } from '../src/index.js'
import { harness, envelope, exchange } from './helpers/gateway.js'
import type { Harness } from './helpers/gateway.js'
import { answerData } from './helpers/provider.js'

const HOUSEHOLD = 'tj.psb:household-registration'
const INSURANCE = 'tj.hrss:social-insurance'

async function restart (t: { teardown: (fn: () => unknown) => void }, h: Harness): Promise<Harness> {
  await h.app.close()
  const app = await buildGateway({ config: h.config })
  t.teardown(async () => { await app.close() })
  return { ...h, app }
}

t.test('envelope ids and quota spent before a restart are still spent after it', async t => {
  let h = await harness(t)
  h.psb.behave(answerData({ name: 'Li Lei', householdAddress: 'Heping District' }))
  h.hrss.behave(answerData({ contributionStatus: 'paid' }))
  const allowed = envelope()
  t.equal((await exchange(h, HOUSEHOLD, allowed)).statusCode, 200)
  const refused = envelope({ purpose: 'curiosity' })
  t.equal((await exchange(h, HOUSEHOLD, refused)).statusCode, 403)
  for (let i = 0; i < 2; i++) t.equal((await exchange(h, INSURANCE, envelope())).statusCode, 200)
  t.equal((await exchange(h, INSURANCE, envelope())).statusCode, 429, 'quota of 2 a minute spent')
  h.psb.behave((_received, res) => { res.statusCode = 500; res.end('boom') })
  const failed = envelope()
  t.equal((await exchange(h, HOUSEHOLD, failed)).statusCode, 502)
  h.psb.behave(answerData({ name: 'Li Lei', householdAddress: 'Heping District' }))

  h = await restart(t, h)

  const replay = await exchange(h, HOUSEHOLD, allowed)
  t.equal(replay.statusCode, 409, 'the allowed id is still used')
  t.equal(replay.json().code, 'GOVEX_ERR_REPLAY')
  t.equal((await exchange(h, HOUSEHOLD, { ...allowed, id: String(allowed.id).toUpperCase() })).statusCode, 409, 'in any spelling')
  t.equal((await exchange(h, HOUSEHOLD, failed)).statusCode, 409, 'an id forwarded to a provider that failed is used too')
  t.equal((await exchange(h, HOUSEHOLD, { ...refused, purpose: allowed.purpose })).statusCode, 200, 'a refused id was never consumed')
  const quota = await exchange(h, INSURANCE, envelope())
  t.equal(quota.statusCode, 429, 'the minute quota is still spent')
  t.equal(quota.json().code, 'GOVEX_ERR_QUOTA')
  t.equal((await exchange(h, HOUSEHOLD, envelope())).statusCode, 200, 'new ids pass')
})
