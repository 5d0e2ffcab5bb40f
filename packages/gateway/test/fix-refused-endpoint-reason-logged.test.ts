// The forwarder refused an endpoint URL (its host outside upstream.allowHosts,
// a scheme other than http(s), or no URL at all) in a bare `catch {}`: the
// consumer's 502 rightly said only that the provider's endpoint URL cannot be
// used, but the gateway log said no more, so the operator could not tell a
// tightened allowHosts from a broken directory. The request's warn line now
// names the reason (the host, never the whole URL); the answer stays as it was.
import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import { buildGateway, resolveConfig } from '../src/index.js'
import { Forwarder } from '../src/forward.js'
import { createDeployment, samplePlan } from './helpers/deployment.js'
import { activatePlan, envelope, exchange } from './helpers/gateway.js'

const HOUSEHOLD = 'tj.psb:household-registration'

t.test('an endpoint host outside upstream.allowHosts: the log says so, the 502 does not', async t => {
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

  const body = envelope()
  const res = await exchange({ ...d, app }, HOUSEHOLD, body)
  t.equal(res.statusCode, 502, res.body)
  t.match(res.json(), { code: 'GOVEX_ERR_UPSTREAM', message: 'tj.psb\'s endpoint URL cannot be used; its agency should correct its directory' }, 'the answer is unchanged')
  for (const word of ['127.0.0.1', 'allowHosts', 'household', String(new URL(d.psb.url).port)]) {
    t.notOk(res.body.includes(word), `the answer does not carry ${JSON.stringify(word)}`)
  }
  const line = lines.map(l => JSON.parse(l) as { level: number, reqId?: string, reason?: string, msg: string }).find(l => l.reqId === body.id && l.level === 40)
  t.match(line, { msg: 'request failed', reason: /tj\.psb's endpoint URL cannot be used: its host 127\.0\.0\.1 is not in upstream\.allowHosts/ }, 'the operator sees why')
  t.notMatch(line?.reason, /household/, 'the log names the host, not the endpoint\'s path')
})

t.test('the forwarder tells each refusal apart', async t => {
  const forwarder = new Forwarder({ connections: 1, allowHosts: ['localhost'] })
  t.teardown(() => forwarder.close())
  const cases: Array<[string, RegExp]> = [
    ['http://10.9.9.9/x?secret=1', /^tj\.psb's endpoint URL cannot be used: its host 10\.9\.9\.9 is not in upstream\.allowHosts/],
    ['ftp://localhost/x', /^tj\.psb's endpoint URL cannot be used: its scheme ftp: is neither http: nor https:$/],
    ['not a url', /^tj\.psb's endpoint URL cannot be used: it is not a valid URL$/]
  ]
  for (const [url, reason] of cases) {
    const err = await forwarder.forward('tj.psb', url, Buffer.from('{}'), 'token', 1000, 1024).then(() => undefined, (e: unknown) => e as Error & { code?: string, detail?: string })
    t.equal(err?.code, 'GOVEX_ERR_UPSTREAM', url)
    t.match(err?.detail, reason, url)
    t.notMatch(err?.message, /allowHosts|scheme|valid URL/, `${url}: the message for the consumer stays generic`)
    t.notMatch(err?.detail, /secret/, `${url}: no query string in the log`)
  }
})
