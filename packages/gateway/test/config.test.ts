// loadConfig(): env overrides, every problem listed, paths resolved against the
// config file's folder, MODEL.md defaults filled in code.
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CONFIG_DEFAULTS } from '@govex/core'
import { loadConfig, applyEnvOverrides, ConfigError } from '../src/index.js'

const minimal = {
  gatewayId: 'tj.gw.extranet-1',
  zone: 'extranet',
  port: 8080,
  keyFile: './keys/gw.key.json',
  store: { kind: 'file', dir: './data' }
}

async function folder (t: { teardown (fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'govex-config-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('defaults and paths', async t => {
  const dir = await folder(t)
  const file = join(dir, 'govex.config.json')
  await writeFile(file, JSON.stringify({ ...minimal, bootstrap: { members: 'seed/members.json', directories: ['a.json', '/abs/b.json'], disclosures: ['d.json'] } }))
  const config = await loadConfig(file, {})
  t.equal(config.file, file)
  t.equal(config.dir, dir)
  t.equal(config.keyFile, join(dir, 'keys/gw.key.json'))
  t.same(config.store, { kind: 'file', dir: join(dir, 'data'), spoolDir: join(dir, 'data', 'spool') })
  t.same(config.bootstrap, { members: join(dir, 'seed/members.json'), directories: [join(dir, 'a.json'), '/abs/b.json'], disclosures: [join(dir, 'd.json')] })
  t.equal(config.host, CONFIG_DEFAULTS.host)
  t.same(config.limits, {
    bodyBytes: CONFIG_DEFAULTS.bodyBytes,
    upstreamBodyBytes: CONFIG_DEFAULTS.upstreamBodyBytes,
    upstreamTimeoutMs: CONFIG_DEFAULTS.upstreamTimeoutMs,
    upstreamConnections: CONFIG_DEFAULTS.upstreamConnections,
    replayWindowS: CONFIG_DEFAULTS.replayWindowS
  })
  t.equal(config.audience, undefined)
  t.equal(config.upstream.allowHosts, undefined)
  t.same(config.log, { level: 'info', redact: [] })
})

t.test('redis store: prefix default, spoolDir resolved', async t => {
  const dir = await folder(t)
  const file = join(dir, 'c.json')
  await writeFile(file, JSON.stringify({ ...minimal, store: { kind: 'redis', url: 'redis://127.0.0.1:6379/0', spoolDir: 'spool' } }))
  const config = await loadConfig(file, {})
  t.same(config.store, { kind: 'redis', url: 'redis://127.0.0.1:6379/0', prefix: 'govex:', spoolDir: join(dir, 'spool') })
})

t.test('GOVEX_* overrides', async t => {
  const dir = await folder(t)
  const file = join(dir, 'c.json')
  await writeFile(file, JSON.stringify(minimal))
  const config = await loadConfig(file, {
    GOVEX_PORT: '9090',
    GOVEX_GATEWAY_ID: 'tj.gw.extranet-2',
    GOVEX_STORE__DIR: '/var/lib/govex',
    GOVEX_LIMITS__BODY_BYTES: '2048',
    GOVEX_UPSTREAM__ALLOW_HOSTS: '["10.0.0.0/8","api.example.gov"]',
    GOVEX_LOG__LEVEL: 'warn',
    GOVEX_CONFIG: '/somewhere/else.json',
    GOVEX_NOT_A_KEY: 'x',
    GOVEX_STORE__NOPE: 'x',
    GOVEX__: 'x',
    OTHER_PORT: '1'
  })
  t.equal(config.port, 9090)
  t.equal(config.gatewayId, 'tj.gw.extranet-2')
  t.equal(config.store.kind === 'file' && config.store.dir, '/var/lib/govex')
  t.equal(config.limits.bodyBytes, 2048)
  t.same(config.upstream.allowHosts, ['10.0.0.0/8', 'api.example.gov'])
  t.equal(config.log.level, 'warn')

  const switched = await loadConfig(file, { GOVEX_STORE: '{"kind":"redis","url":"redis://r:6379"}', GOVEX_STORE__PREFIX: 'p:' })
  t.same(switched.store, { kind: 'redis', url: 'redis://r:6379', prefix: 'p:', spoolDir: join(dir, 'data', 'spool') }, 'a whole object, then a key inside it')
  // a key that holds text takes the value as written, even when it would parse as JSON
  const texts = await loadConfig(file, { GOVEX_STORE: '{"kind":"redis","url":"redis://r:6379"}', GOVEX_STORE__PREFIX: '1', GOVEX_HOST: 'true', GOVEX_LOG__REDACT: '["a.b"]' })
  t.equal(texts.store.kind === 'redis' ? texts.store.prefix : undefined, '1')
  t.equal(texts.host, 'true')
  t.same(texts.log.redact, ['a.b'], 'an array still reads as JSON')
  t.same(applyEnvOverrides({ zone: 'extranet' }, { GOVEX_ZONE: 'null' }), { zone: 'null' }, 'an enum of strings reads text (and then fails validation by name)')
  t.same(applyEnvOverrides(minimal, {}), minimal)
  t.not(applyEnvOverrides(minimal, {}), minimal, 'a copy')
})

t.test('only GOVEX_ + the key path in upper snake case names a key; other spellings are ignored', async t => {
  const ignored = {
    GOVEX_port: '1',
    GOVEX_Port: '2',
    GOVEX_GATEWAYID: 'tj.gw.other',
    GOVEX_gateway_id: 'tj.gw.other',
    GOVEX_STORE_DIR: '/elsewhere',
    GOVEX_STORE__dir: '/elsewhere',
    GOVEX_LIMITS__BODYBYTES: '4096',
    GOVEX_LIMITS___BODY_BYTES: '4096',
    GOVEX_LIMITS__BODY__BYTES: '4096',
    GOVEX_PORT__VALUE: '3'
  }
  t.same(applyEnvOverrides(minimal, ignored), minimal)
  t.same(applyEnvOverrides(minimal, { GOVEX_LIMITS__UPSTREAM_BODY_BYTES: '4096', GOVEX_AUDIT__CHECKPOINT_EVERY: '0' }),
    { ...minimal, limits: { upstreamBodyBytes: 4096 }, audit: { checkpointEvery: 0 } }, 'several words, two levels')
})

t.test('every problem listed, in a coded error', async t => {
  const dir = await folder(t)
  const file = join(dir, 'c.json')
  await writeFile(file, JSON.stringify({ gatewayId: 'Not An Id', zone: 'moon', port: 70000, store: { kind: 'file' }, limits: { bodyBytes: 'big' }, extra: true }))
  const err = await loadConfig(file, {}).then(() => null, (e: unknown) => e) as ConfigError
  t.ok(err instanceof ConfigError)
  t.equal(err.code, 'GOVEX_ERR_INVALID_DOCUMENT')
  const paths = err.problems!.map(p => p.path)
  for (const path of ['/gatewayId', '/zone', '/port', '/keyFile', '/limits/bodyBytes', '/extra']) t.ok(paths.some(p => p.startsWith(path)), path)
  t.match(err.message, /c\.json is not a usable gateway config/)
  t.match(err.message, /\/port/)

  const env = await loadConfig(join(dir, 'c.json'), { GOVEX_PORT: 'eighty' }).catch((e: ConfigError) => e)
  t.ok(env instanceof ConfigError)

  await writeFile(file, JSON.stringify({ ...minimal, upstream: { allowHosts: ['http://x/', '10.0.0.0/99'] } }))
  const hosts = await loadConfig(file, {}).catch((e: ConfigError) => e) as ConfigError
  t.same(hosts.problems!.map(p => p.path), ['/upstream/allowHosts/0', '/upstream/allowHosts/1'])

  await writeFile(file, '{ "gatewayId": ')
  const json = await loadConfig(file, {}).catch((e: ConfigError) => e) as ConfigError
  t.equal(json.problems![0]!.code, 'json')
  const missing = await loadConfig(join(dir, 'missing.json'), {}).catch((e: ConfigError) => e) as ConfigError
  t.match(missing.message, /does not exist/)
})
