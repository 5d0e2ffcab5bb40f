// Sentinels that require a password (sentinel `requirepass`), and TLS, in the
// Sentinel URL: redis-sentinel://…/db?sentinelUsername=…&sentinelPassword=…#master,
// rediss-sentinel:// for TLS. A sentinel and a master of the test's own; the
// stores connect with the password, refuse clearly without it (or with a wrong
// one), and the password is never in a message or a reported error.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Redis } from 'ioredis'
import { openRedisStores } from '../src/index.js'
import { redactUrl, sentinelOptions } from '../src/connection.js'
import { OwnRedis, freePort } from './helpers/server.js'
import { sleep } from './helpers/fixtures.js'
import { exchangeEntry } from '@govex/core/contract'

const SECRET = 'Sent1nel-Zq9'

t.test('Sentinel URL query: sentinel credentials, rediss-sentinel:// TLS, redaction', async t => {
  t.same(sentinelOptions(`redis-sentinel://:masterpw@h1:26379,h2/2?sentinelUsername=watch&sentinelPassword=${encodeURIComponent('a&b#c')}#main`), {
    sentinels: [{ host: 'h1', port: 26379 }, { host: 'h2', port: 26379 }],
    name: 'main',
    db: 2,
    password: 'masterpw',
    sentinelUsername: 'watch',
    sentinelPassword: 'a&b#c'
  })
  t.same(sentinelOptions('rediss-sentinel://h1#main'), { sentinels: [{ host: 'h1', port: 26379 }], name: 'main', db: 0, tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true }, 'rediss-sentinel://: TLS to the sentinels and the master')
  for (const bad of ['redis-sentinel://h1?password=x#main', 'redis-sentinel://h1?sentinelPassword#main', 'redis-sentinel://h1?sentinelPassword=a&sentinelPassword=b#main']) {
    t.throws(() => sentinelOptions(bad), { code: 'GOVEX_ERR_BAD_REQUEST', message: /sentinelPassword=…/ }, bad)
  }
  t.equal(redactUrl(`redis-sentinel://ops:pw@h1/1?sentinelUsername=watch&sentinelPassword=${SECRET}#main`), 'redis-sentinel://ops:***@h1/1?sentinelUsername=watch&sentinelPassword=***#main')
  t.equal(redactUrl(`rediss-sentinel://h1?sentinelPassword=${SECRET}#main`), 'rediss-sentinel://h1?sentinelPassword=***#main')
  // written unencoded, a password's '&', '#' or '%' makes the URL malformed: no piece of it is in the message
  for (const secret of ['Qx7&Wv9=Zq9', 'Qx7%Wv9']) {
    const url = `redis-sentinel://h1?sentinelPassword=${secret}#main`
    let message = ''
    try { sentinelOptions(url) } catch (err) { message = (err as Error).message }
    t.match(message, /not a Sentinel URL/, url)
    for (const piece of secret.split(/[&#=%]/)) t.notOk(message.includes(piece), `${JSON.stringify(piece)} is not in: ${message}`)
  }
  // an unencoded '#' cannot be told from the master name's: the redacted URL still hides the password before it
  t.equal(redactUrl('redis-sentinel://h1?sentinelPassword=Qx7#main'), 'redis-sentinel://h1?sentinelPassword=***#main')
  await t.rejects(openRedisStores({ url: 'rediss-sentinel://h1', gatewayId: 'tj.gw.a' }), { code: 'GOVEX_ERR_BAD_REQUEST' }, 'refused before connecting')
})

async function startSentinel (dir: string, name: string, masterPort: number, conf: string[]): Promise<{ port: number, child: ChildProcess }> {
  const port = await freePort()
  const file = join(dir, 'sentinel.conf')
  await writeFile(file, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`, ...conf, ''].join('\n'))
  const child = spawn('redis-server', [file, '--sentinel'], { stdio: 'ignore' })
  const probe = new Redis({ port, host: '127.0.0.1', password: SECRET, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
  probe.on('error', () => {})
  try {
    for (let i = 0; i < 100; i++) {
      const named = await probe.connect().catch(() => {}).then(async () => await probe.call('SENTINEL', 'get-master-addr-by-name', name)).catch(() => null)
      if (Array.isArray(named)) return { port, child }
      probe.disconnect()
      await sleep(50)
    }
    child.kill('SIGKILL')
    throw new Error('the sentinel did not name its master within 5 s')
  } finally {
    probe.disconnect()
  }
}

t.test('a sentinel with requirepass: the stores connect with sentinelPassword, refuse clearly without it, never print it', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'govex-sentinel-auth-'))
  const master = await OwnRedis.start()
  const name = 'govex-auth-' + randomBytes(4).toString('hex')
  const sentinel = await startSentinel(dir, name, master.port, [`requirepass ${SECRET}`])
  t.teardown(async () => {
    sentinel.child.kill('SIGKILL')
    await master.kill()
    await rm(dir, { recursive: true, force: true })
  })
  const reported: string[] = []
  const onError = (err: Error): void => { reported.push(`${err.message} ${String((err.cause as Error | undefined)?.message)}`) }
  const base = `redis-sentinel://127.0.0.1:${sentinel.port}`
  const stores = await openRedisStores({ url: `${base}?sentinelPassword=${SECRET}#${name}`, gatewayId: 'tj.gw.auth-1', onError })
  t.teardown(async () => { await stores.close() })
  await stores.ping()
  t.equal((await stores.audit.append(exchangeEntry())).seq, 1, 'with the password: connected, an audit record appended')
  t.same(await stores.audit.verify(), { ok: true, checked: 1 }, 'and the audit reader reads the master the sentinel named')

  for (const [label, url] of [['without a password', `${base}#${name}`], ['with a wrong password', `${base}?sentinelPassword=wrong-${SECRET}#${name}`]] as const) {
    const started = Date.now()
    let error: Error | undefined
    try {
      const s = await openRedisStores({ url, gatewayId: 'tj.gw.auth-2', commandTimeoutMs: 300, onError })
      await s.close()
    } catch (err) {
      error = err as Error
    }
    t.match(error, { code: 'GOVEX_ERR_UNAVAILABLE', message: /sentinel/i }, `${label}: refused with GOVEX_ERR_UNAVAILABLE (${error?.message ?? ''})`)
    t.match(error?.message, /(NOAUTH|WRONGPASS).*sentinelPassword/, `${label}: the message says the sentinels want credentials`)
    t.ok(Date.now() - started < 2000, `${label}: within 2 s`)
    t.notOk(error?.message.includes(SECRET), `${label}: no password in the message`)
  }
  for (const line of reported) t.notOk(line.includes(SECRET), `no password in a reported error: ${line}`)
})
