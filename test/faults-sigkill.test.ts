// The gateway killed with SIGKILL under load on the file store: after a
// restart on the same data folder the chain verifies, no torn line remains in
// the log, and every exchange that was answered 200 is in it as allowed (the
// ids of 200s are kept client-side, then looked up). A 200 is never answered
// before its record is durable, so none may be missing.
import t from 'tap'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createDeployment, samplePlan } from '../packages/gateway/test/helpers/deployment.js'
import { startGatewayProcess, freePort, CLI_BUILT } from './helpers/processes.js'
import type { GatewayProcess } from './helpers/processes.js'
import { activateOverHttp, http, newTally, runWorkers, sendOne } from './helpers/load.js'
import { report, STRESS } from './helpers/answers.js'

t.test('SIGKILL under load on the file store', { skip: CLI_BUILT ? false : 'packages/cli/dist is missing: run `pnpm build` first' }, async t => {
  const d = await createDeployment()
  const gateways: GatewayProcess[] = []
  t.teardown(async () => {
    for (const g of gateways) await g.stop('SIGKILL')
    await d.cleanup()
  })
  const port = await freePort()
  let gw = await startGatewayProcess(d.configFile, port)
  gateways.push(gw)
  await activateOverHttp(gw.url, d.actors, samplePlan())

  const kills = STRESS ? 5 : 1
  const allowed = new Set<string>()
  let sent = 0
  let answered = 0
  for (let k = 0; k < kills; k++) {
    const tally = newTally()
    const headers = d.actors.mca.auth()
    let killed = false
    const killer = setTimeout(() => { killed = true; gw.child.kill('SIGKILL') }, 1200 + k * 150)
    await runWorkers(8, () => killed, async n => { await sendOne(gw.url, headers, n, tally) })
    clearTimeout(killer)
    await gw.stop('SIGKILL')
    for (const id of tally.allowedIds) allowed.add(id)
    sent += tally.sent
    answered += tally.answeredIds.length
    t.ok(tally.allowedIds.size > 0, `round ${k + 1}: ${tally.allowedIds.size} answered 200 before the kill (${tally.sent} sent)`)
    t.equal(tally.fiveXX, 0, 'no 5xx before the kill')
    gw = await startGatewayProcess(d.configFile, port)
    gateways.push(gw)
  }

  // No torn line: every line of the log parses (the restart cut a torn tail, if any).
  const auditDir = join(d.dir, 'data', 'audit')
  let lines = 0
  for (const file of await readdir(auditDir)) {
    if (!file.endsWith('.jsonl')) continue
    const text = await readFile(join(auditDir, file), 'utf8')
    t.ok(text === '' || text.endsWith('\n'), `${file} ends with a whole line`)
    for (const line of text.split('\n')) {
      if (line === '') continue
      lines++
      try { JSON.parse(line) } catch { t.fail('torn line: ' + line.slice(0, 80)) }
    }
  }
  const verify = await http(gw.url, 'GET', '/v1/audit/verify', d.actors.auditor.auth())
  t.equal(verify.json.ok, true, 'the chain verifies after restarts: ' + JSON.stringify(verify.json))

  const found = new Set<string>()
  const res = await fetch(gw.url + '/v1/audit/export?kind=exchange&outcome=allowed', { headers: d.actors.auditor.auth() })
  for (const line of (await res.text()).split('\n')) if (line !== '') found.add((JSON.parse(line) as { id: string }).id)
  let lost = 0
  for (const id of allowed) if (!found.has(id)) lost++
  t.equal(lost, 0, `every one of the ${allowed.size} exchanges answered 200 is in the log`)
  // And it still works.
  const after = await http(gw.url, 'POST', '/v1/exchange/tj.psb:household-registration', d.actors.mca.auth(), { id: crypto.randomUUID(), purpose: 'minimum-living-guarantee-review', caseRef: 'C-1', query: { idNumber: '1' } })
  t.equal(after.status, 200, 'serves after the restart')
  report({ name: 'sigkill file store', faults: kills, requests: sent, answered, allowed: allowed.size, auditRecords: lines, lost })
})
