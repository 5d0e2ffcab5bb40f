// `govex audit` filters an auditor can get wrong — --from later than --to, an id
// that is no id (--consumer TJ.MCA) — are refused in one line with exit 1, as
// GET /v1/audit answers 400, instead of an empty page that reads as "nothing
// happened"; `verify` and `stats` refuse the same range.
import t from 'tap'
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { FileAuditLog } from '@govex/core'
import { govex, tempDir } from './helpers/run.js'

/** A deployment from `govex init` whose log holds one refused exchange; resolves with its config file. */
async function deploymentWithOneRecord (t: Test): Promise<string> {
  const dir = await tempDir(t)
  t.equal((await govex(['init', dir])).code, 0)
  const log = await FileAuditLog.open({ dir: join(dir, 'data'), gatewayId: 'city.gw.extranet-1' })
  await log.append({
    kind: 'exchange', id: randomUUID(), consumer: 'city.mca', provider: 'city.psb', resource: 'city.psb:household-registration',
    userId: null, purpose: 'review', caseRef: null, plan: null, grantId: null, fields: null,
    outcome: 'denied', code: 'GOVEX_ERR_NO_GRANT', status: 403, latencyMs: 1, digests: null
  })
  await log.close()
  return join(dir, 'govex.config.json')
}

t.test('query and export refuse --from after --to', async t => {
  const config = await deploymentWithOneRecord(t)
  for (const command of ['query', 'export']) {
    const r = await govex(['audit', command, '--config', config, '--from', '2026-12-01', '--to', '2026-11-01'])
    t.equal(r.code, 1, `${command}: exit 1`)
    t.equal(r.stdout, '', `${command}: no records printed`)
    t.equal(r.stderr, 'error: --from 2026-12-01 is later than --to 2026-11-01; swap them\n', `${command}: one line saying what to do`)
  }
  const stats = await govex(['audit', 'stats', '--config', config, '--from', '2026-12-01', '--to', '2026-11-01'])
  t.equal(stats.code, 1, 'stats still refuses it')
  t.match(stats.stderr, /later than --to/)

  const same = await govex(['audit', 'query', '--config', config, '--from', '2026-11-01', '--to', '2026-11-01', '--json'])
  t.equal(same.code, 0, 'an empty range (from = to) is a question, not a mistake')
  t.same(JSON.parse(same.stdout), { records: [], nextCursor: null })
})

t.test('query and export refuse filters that are no ids', async t => {
  const config = await deploymentWithOneRecord(t)
  const cases: Array<[string[], RegExp]> = [
    [['--consumer', 'CITY.MCA'], /^error: --consumer "CITY\.MCA" is not a member id: write it in lowercase/],
    [['--provider', 'city psb'], /^error: --provider "city psb" is not a member id/],
    [['--resource', 'household-registration'], /^error: --resource "household-registration" is not a resource id: write <provider>:<name>/],
    [['--gateway', 'GW'], /^error: --gateway "GW" is not a member id/],
    [['--code', 'no-such-code'], /^error: --code "no-such-code" is not a govex error code/],
    // a time without its zone would be read in this machine's local time; the gateway answers 400 to it
    [['--from', '2026-11-27T08:00'], /^error: --from 2026-11-27T08:00 is not an ISO 8601 date or date-time with a zone/]
  ]
  for (const command of ['query', 'export']) {
    for (const [args, message] of cases) {
      const r = await govex(['audit', command, '--config', config, ...args])
      t.equal(r.code, 1, `${command} ${args.join(' ')}: exit 1`)
      t.equal(r.stdout, '', 'nothing printed')
      t.match(r.stderr, message)
      t.equal(r.stderr.split('\n').length, 2, 'one line')
    }
  }
  const good = await govex(['audit', 'query', '--config', config, '--consumer', 'city.mca', '--resource', 'city.psb:household-registration', '--json'])
  t.equal(good.code, 0)
  t.equal(JSON.parse(good.stdout).records.length, 1, 'well-formed filters find the record')
  for (const spelling of ['NO_GRANT', 'no-grant', 'GOVEX_ERR_NO_GRANT', 'govex_err_no_grant']) {
    const byCode = await govex(['audit', 'query', '--config', config, '--code', spelling, '--json'])
    t.equal(JSON.parse(byCode.stdout).records.length, 1, `--code ${spelling} finds it`)
  }
})
