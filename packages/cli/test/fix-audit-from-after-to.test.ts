// `govex audit query` and `export` with --from later than --to: refused in one
// line with exit 1, as GET /v1/audit answers 400 and `verify`/`stats` refuse it,
// instead of an empty page that reads as "nothing happened in that range".
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { FileAuditLog } from '@govex/core'
import { govex, tempDir } from './helpers/run.js'

t.test('query and export refuse --from after --to', async t => {
  const dir = await tempDir(t)
  t.equal((await govex(['init', dir])).code, 0)
  const log = await FileAuditLog.open({ dir: join(dir, 'data'), gatewayId: 'city.gw.extranet-1' })
  await log.append({
    kind: 'exchange', id: randomUUID(), consumer: 'city.mca', provider: 'city.psb', resource: 'city.psb:household-registration',
    userId: null, purpose: 'review', caseRef: null, plan: null, grantId: null, fields: null,
    outcome: 'denied', code: 'GOVEX_ERR_NO_GRANT', status: 403, latencyMs: 1, digests: null
  })
  await log.close()
  const config = join(dir, 'govex.config.json')

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
