// An endpoint URL the forwarder refuses before any connection (a stored
// directory whose host a tightened upstream.allowHosts no longer allows, a
// scheme other than http(s), no URL at all):
// - the 502's audit record named the request digest, as if the provider might
//   hold those bytes; the refusal now says the body was never sent, and the
//   record has `digests: null`, as docs/auditor-guide.md says;
// - the refusal was made in a bare `catch {}`, so the gateway log said no more
//   than the consumer's generic 502 and the operator could not tell a
//   tightened allowHosts from a broken directory; the request's warn line now
//   names the reason (the host, never the whole URL), the answer unchanged.
import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import { buildGateway, resolveConfig } from '../src/index.js'
import { Forwarder } from '../src/forward.js'
import { createDeployment, samplePlan } from './helpers/deployment.js'
import { activatePlan, auditRecords, envelope, exchange } from './helpers/gateway.js'

const HOUSEHOLD = 'tj.psb:household-registration'

t.test('an endpoint host outside upstream.allowHosts: a 502 with no request digest, whose reason only the log gives', async t => {
  const d = await createDeployment()
  t.teardown(() => d.cleanup())
  // the first gateway stores the directories (http://127.0.0.1:<port>/…) and the active plan
  const first = await buildGateway({ config: d.config })
  try {
    await activatePlan({ ...d, app: first }, samplePlan())
  } finally {
    await first.close()
  }
  // the same data folder under a config that no longer allows 127.0.0.1
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(...chunk.toString('utf8').trim().split('\n')); done() } })
  const tightened = resolveConfig({ ...d.raw, upstream: { allowHosts: ['localhost'] } }, { dir: d.dir, file: d.configFile })
  const app = await buildGateway({ config: tightened, logger: pino({ level: 'info' }, sink) })
  t.teardown(() => app.close())
  const h = { ...d, app }

  const body = envelope()
  const res = await exchange(h, HOUSEHOLD, body)
  t.equal(res.statusCode, 502, res.body)
  t.match(res.json(), { code: 'GOVEX_ERR_UPSTREAM', message: 'tj.psb\'s endpoint URL cannot be used; its agency should correct its directory' }, 'the answer is unchanged')
  for (const word of ['127.0.0.1', 'allowHosts', 'household', String(new URL(d.psb.url).port)]) {
    t.notOk(res.body.includes(word), `the answer does not carry ${JSON.stringify(word)}`)
  }
  t.equal(d.psb.received.length, 0, 'nothing reached the provider')

  const records = (await auditRecords(h)).filter(r => r.id === body.id)
  t.match(records, [{ outcome: 'error', code: 'GOVEX_ERR_UPSTREAM', status: 502, provider: 'tj.psb' }], 'one record of the 502')
  t.equal(records[0]?.digests, null, 'no request digest: the body never left the gateway')

  const line = lines.map(l => JSON.parse(l) as { level: number, reqId?: string, reason?: string, msg: string }).find(l => l.reqId === body.id && l.level === 40)
  t.match(line, { msg: 'request failed', reason: /tj\.psb's endpoint URL cannot be used: its host 127\.0\.0\.1 is not in upstream\.allowHosts/ }, 'the operator sees why')
  t.notMatch(line?.reason, /household/, 'the log names the host, not the endpoint\'s path')
})

t.test('the forwarder tells each refusal apart, and says it was never sent', async t => {
  const forwarder = new Forwarder({ connections: 1, allowHosts: ['localhost'] })
  t.teardown(() => forwarder.close())
  const cases: Array<[string, RegExp]> = [
    ['http://10.9.9.9/x?secret=1', /^tj\.psb's endpoint URL cannot be used: its host 10\.9\.9\.9 is not in upstream\.allowHosts/],
    ['ftp://localhost/x', /^tj\.psb's endpoint URL cannot be used: its scheme ftp: is neither http: nor https:$/],
    ['not a url', /^tj\.psb's endpoint URL cannot be used: it is not a valid URL$/]
  ]
  for (const [url, reason] of cases) {
    const err = await forwarder.forward('tj.psb', url, Buffer.from('{}'), 'token', 1000, 1024).then(() => undefined, (e: unknown) => e as Error & { code?: string, detail?: string, requestSent?: boolean })
    t.equal(err?.code, 'GOVEX_ERR_UPSTREAM', url)
    t.equal(err?.requestSent, false, `${url}: requestSent false`)
    t.match(err?.detail, reason, url)
    t.notMatch(err?.message, /allowHosts|scheme|valid URL/, `${url}: the message for the consumer stays generic`)
    t.notMatch(err?.detail, /secret/, `${url}: no query string in the log`)
  }
})
