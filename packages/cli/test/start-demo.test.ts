// start serves until stopped and flushes its audit log; demo walks the whole
// example (on a copy, so the repository's example folder is left alone).
import t from 'tap'
import { cp, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { govex, tempDir } from './helpers/run.js'
import { isPortFree } from '../src/ports.js'

const EXAMPLE = fileURLToPath(new URL('../../../examples/tianjin', import.meta.url))

t.test('start serves the init deployment and stops on the signal', async t => {
  const dir = await tempDir(t)
  t.equal((await govex(['init', dir])).code, 0)
  const stop = new AbortController()
  const running = govex(['start', '--config', join(dir, 'govex.config.json')], { env: { GOVEX_PORT: '0' }, signal: stop.signal })
  const started = Date.now()
  while (!(await isUp(dir)) && Date.now() - started < 20_000) await new Promise(resolve => setTimeout(resolve, 100))
  stop.abort()
  const r = await running
  t.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trim().split('\n').map(l => JSON.parse(l) as { msg?: string, url?: string })
  t.ok(lines.some(l => l.msg === 'gateway listening' && typeof l.url === 'string'), 'logs pino JSON when stdout is not a terminal')
  t.ok(lines.some(l => l.msg === 'stopped'))
  const audit = await readFile(join(dir, 'data', 'audit', 'city.gw.extranet-1.jsonl'), 'utf8')
  t.ok(audit.trim().split('\n').length >= 1, 'bootstrap admin records were flushed')
  const verify = await govex(['audit', 'verify', '--config', join(dir, 'govex.config.json')])
  t.equal(verify.code, 0, verify.stdout)
})

// the gateway is up once its data folder holds the audit log
async function isUp (dir: string): Promise<boolean> {
  try {
    await readFile(join(dir, 'data', 'audit', 'city.gw.extranet-1.jsonl'))
    return true
  } catch {
    return false
  }
}

t.test('start lists every config problem and exits 1', async t => {
  const dir = await tempDir(t)
  t.equal((await govex(['init', dir])).code, 0)
  const r = await govex(['start', '--config', join(dir, 'govex.config.json')], { env: { GOVEX_PORT: '-1', GOVEX_ZONE: 'dmz' } })
  t.equal(r.code, 1)
  t.match(r.stderr, /not a usable gateway config/)
  t.match(r.stderr, /\/port/)
  t.match(r.stderr, /\/zone/)
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
})

t.test('demo runs the walkthrough on a copy of the example', async t => {
  for (const port of [4101, 4102, 4103]) {
    if (!(await isPortFree(port))) {
      t.skip(`port ${port} is taken (a demo or the example's providers are running): cannot run the demo test`)
      return
    }
  }
  const dir = join(await tempDir(t), 'tianjin')
  await cp(EXAMPLE, dir, { recursive: true, filter: src => !/[/\\](data|keys|data-seed)$/.test(src) })
  const r = await govex(['demo', '--example', dir, '--port', '0', '--once'])
  t.equal(r.code, 0, r.stdout + r.stderr)
  t.match(r.stdout, /✔ 200 tj\.gov +POST \/v1\/plans\/tj-sharing-plan\/approve/)
  for (const code of ['NO_GRANT', 'PURPOSE_NOT_GRANTED', 'FIELDS_NOT_GRANTED', 'CONDITION_UNMET', 'REPLAY', 'ZONE']) {
    t.match(r.stdout, new RegExp(`✘ \\d{3} GOVEX_ERR_${code} `), code)
  }
  t.match(r.stdout, /Audit: ✔ hash chain intact/)
  t.match(r.stdout, /TOKEN=eyJ/)
  t.notMatch(r.stdout, /^ *!/m, 'every step answered as expected')
  const busy = await govex(['demo', '--example', dir, '--port', '0', '--once', '--keep'])
  t.equal(busy.code, 0, busy.stdout + busy.stderr)
  t.match(busy.stdout, /already active in the kept data folder/)
})

t.test('demo says which port is taken', async t => {
  const { createServer } = await import('node:net')
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const port = (server.address() as { port: number }).port
  const r = await govex(['demo', '--port', String(port), '--once'])
  t.equal(r.code, 1)
  t.match(r.stderr, new RegExp(`^error: port ${port} is already in use .*pass --port <n>`))
})
