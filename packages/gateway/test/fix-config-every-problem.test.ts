// MODEL.md "Gateway configuration": "validated at start with every problem
// listed". Unreadable upstream.allowHosts entries are listed together with the
// schema's problems, and a store names the problems of its own kind only.
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, ConfigError } from '../src/index.js'

async function problemsOf (t: { teardown (fn: () => unknown): void }, raw: unknown, env: NodeJS.ProcessEnv = {}): Promise<ConfigError> {
  const dir = await mkdtemp(join(tmpdir(), 'govex-config-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'govex.config.json')
  await writeFile(file, JSON.stringify(raw))
  const err = await loadConfig(file, env).then(() => null, (e: unknown) => e)
  if (!(err instanceof ConfigError)) throw new Error('expected a ConfigError')
  return err
}

t.test('allowHosts problems are listed beside the schema problems', async t => {
  const err = await problemsOf(t, {
    gatewayId: 'tj.gw.extranet-1',
    zone: 'dmz',
    port: 8080,
    keyFile: './gw.key.json',
    store: { kind: 'file', dir: './data' },
    upstream: { allowHosts: ['10.0.0.0/99', 'api.example.gov', 'bad host', 7] }
  })
  t.same(err.problems!.map(p => p.path).sort(), ['/upstream/allowHosts/0', '/upstream/allowHosts/2', '/upstream/allowHosts/3', '/zone'])
  t.match(err.message, /\/upstream\/allowHosts\/0: "10\.0\.0\.0\/99" is not usable/)
  t.match(err.message, /\/zone:/)
})

t.test('a store is checked against its own kind', async t => {
  const file = await problemsOf(t, { gatewayId: 'tj.gw.extranet-1', zone: 'extranet', port: 8080, keyFile: './k.json', store: { kind: 'file' } })
  t.same(file.problems!.map(p => `${p.path} ${p.code}`), ['/store/dir required'], 'no "/store/url is required", no "must be redis"')
  const redis = await problemsOf(t, { gatewayId: 'tj.gw.extranet-1', zone: 'extranet', port: 8080, keyFile: './k.json', store: { kind: 'redis', url: 'http://x', dir: './d' } })
  t.same(redis.problems!.map(p => p.path).sort(), ['/store/dir', '/store/url'])
  // an env override switching the kind is checked against the kind it switches to
  const env = await problemsOf(t, { gatewayId: 'tj.gw.extranet-1', zone: 'extranet', port: 8080, keyFile: './k.json', store: { kind: 'file', dir: './d' } }, { GOVEX_STORE__KIND: 'redis' })
  t.same(env.problems!.map(p => p.path).sort(), ['/store/dir', '/store/url'])
  // an unknown kind still gets the union's answer
  const unknown = await problemsOf(t, { gatewayId: 'tj.gw.extranet-1', zone: 'extranet', port: 8080, keyFile: './k.json', store: { kind: 'disk' } })
  t.ok(unknown.problems!.length > 0 && unknown.problems!.every(p => p.path.startsWith('/store')))
})
