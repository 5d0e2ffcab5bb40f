// A config problem caused by a GOVEX_* override names the variable (PROTOCOL.md:
// every error has a message that says what to do). The file may hold a good
// value: "/port: must be integer" alone sends the operator to the wrong place.
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, ConfigError } from '../src/index.js'

const minimal = {
  gatewayId: 'tj.gw.extranet-1',
  zone: 'extranet',
  port: 8080,
  keyFile: './keys/gw.key.json',
  store: { kind: 'redis', url: 'redis://127.0.0.1:6379/0' },
  limits: { bodyBytes: 'big' }
}

t.test('problems of overridden keys name their variable', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'govex-config-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'govex.config.json')
  await writeFile(file, JSON.stringify(minimal))
  const err = await loadConfig(file, { GOVEX_PORT: 'eighty', GOVEX_STORE: '{"kind":"redis","url":"x"}', GOVEX_STORE__URL: 'http://r', GOVEX_ZONE: 'dmz' }).catch((e: unknown) => e)
  t.ok(err instanceof ConfigError)
  const byPath = new Map((err as ConfigError).problems!.map(p => [p.path, p.message]))
  t.match(byPath.get('/port'), /\(the value comes from GOVEX_PORT\)$/)
  t.match(byPath.get('/zone'), /\(the value comes from GOVEX_ZONE\)$/)
  t.match(byPath.get('/store/url'), /\(the value comes from GOVEX_STORE__URL\)$/, 'the deepest variable')
  t.notMatch(byPath.get('/limits/bodyBytes'), /comes from/, 'a value from the file names no variable')
  t.match((err as Error).message, /\/port: must be integer \(the value comes from GOVEX_PORT\)/)
})
