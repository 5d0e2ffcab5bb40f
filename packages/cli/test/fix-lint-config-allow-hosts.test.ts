// `govex lint` reports "every problem in the documents": a gateway config's
// unreadable upstream.allowHosts entries (which stop the gateway at start) are
// problems too, beside the schema's.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { govex, tempDir } from './helpers/run.js'

const config = {
  gatewayId: 'tj.gw.extranet-1',
  zone: 'extranet',
  port: 8080,
  keyFile: './gw.key.json',
  store: { kind: 'file', dir: './data' }
}

t.test('unreadable allowHosts entries are linted', async t => {
  const dir = await tempDir(t)
  const file = join(dir, 'govex.config.json')
  await writeFile(file, JSON.stringify({ ...config, upstream: { allowHosts: ['10.0.0.0/99', 'api.example.gov'] } }))
  const alone = await govex(['lint', file])
  t.equal(alone.code, 1)
  t.match(alone.stdout, /govex\.config\.json:\/upstream\/allowHosts\/0 invalid-host/)
  t.notMatch(alone.stdout, /allowHosts\/1/)

  await writeFile(file, JSON.stringify({ ...config, zone: 'dmz', upstream: { allowHosts: ['bad host'] } }))
  const both = await govex(['lint', '--json', file])
  t.equal(both.code, 1)
  const report = JSON.parse(both.stdout) as { files: Array<{ problems: Array<{ path: string }> }> }
  t.same(report.files[0]!.problems.map(p => p.path).sort(), ['/upstream/allowHosts/0', '/zone'])

  await writeFile(file, JSON.stringify({ ...config, upstream: { allowHosts: ['10.0.0.0/8'] } }))
  t.equal((await govex(['lint', file])).code, 0, 'a readable list is fine')
})

t.test('a store is linted against its own kind, as the gateway checks it at start', async t => {
  const dir = await tempDir(t)
  const file = join(dir, 'govex.config.json')
  await writeFile(file, JSON.stringify({ ...config, store: { kind: 'file' } }))
  const result = await govex(['lint', '--json', file])
  t.equal(result.code, 1)
  const report = JSON.parse(result.stdout) as { files: Array<{ problems: Array<{ path: string, message: string }> }> }
  const problems = report.files[0]!.problems
  t.same(problems.map(p => [p.path, p.message]), [['/store/dir', 'is required']], 'one problem: the file store lacks dir')
})
