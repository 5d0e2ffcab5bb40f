// validateConfig: a gateway config's every problem at once (MODEL.md "Gateway
// configuration"), as the gateway checks it at start and `govex lint` reports it.
import t from 'tap'
import { validateConfig } from '../src/index.js'

const config = { gatewayId: 'tj.gw.extranet-1', zone: 'extranet', port: 8080, keyFile: './gw.key.json', store: { kind: 'file', dir: './data' } }

t.test('a good config passes as it is', async t => {
  const r = validateConfig(config)
  t.ok(r.ok)
  t.equal(r.ok && r.value, config, 'the value itself, nothing filled in')
})

t.test('a store is checked against its own kind', async t => {
  const r = validateConfig({ ...config, store: { kind: 'file' } })
  t.same(r.ok ? [] : r.problems.map(p => p.path), ['/store/dir'])
  const redis = validateConfig({ ...config, store: { kind: 'redis' } })
  t.same(redis.ok ? [] : redis.problems.map(p => p.path), ['/store/url'])
})

t.test('unreadable allowHosts entries are listed beside schema problems', async t => {
  const r = validateConfig({ ...config, zone: 'dmz', upstream: { allowHosts: ['10.0.0.0/99', 'api.example.gov', 7] } })
  t.same(r.ok ? [] : r.problems.map(p => [p.path, p.code]).sort(), [['/upstream/allowHosts/0', 'invalid-host'], ['/upstream/allowHosts/2', 'type'], ['/zone', 'enum']].sort())
})
