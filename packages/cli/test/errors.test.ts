// Errors are one readable line on stderr and a non-zero exit; stacks only on request.
import t from 'tap'
import { join } from 'node:path'
import { govex, tempDir } from './helpers/run.js'

t.test('usage errors are one line and exit non-zero', async t => {
  for (const args of [['nope'], ['token', '--iss', 'tj.mca'], ['keys', 'generate', '--id', 'x'], ['audit', 'query', '--config', 'c.json', '--outcome', 'maybe']]) {
    const r = await govex(args)
    t.not(r.code, 0, args.join(' '))
    t.equal(r.stdout, '')
    t.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`)
    t.match(r.stderr, /^error: /)
  }
})

t.test('a config with several problems is still one line, naming each', async t => {
  const dir = await tempDir(t)
  const { writeFile } = await import('node:fs/promises')
  const file = join(dir, 'govex.config.json')
  await writeFile(file, JSON.stringify({ gatewayId: 'Not An Id', zone: 'moon', port: 70000, keyFile: 'k.json', store: { kind: 'file', dir: './data' } }))
  const r = await govex(['audit', 'query', '--config', file])
  t.equal(r.code, 1)
  t.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  t.match(r.stderr, /^error: .*govex\.config\.json.*gatewayId.*zone.*port/)
})

t.test('help and version exit 0 with an example', async t => {
  for (const cmd of [['init'], ['start'], ['keys', 'generate'], ['token'], ['lint'], ['plan', 'digest'], ['plan', 'sign'], ['audit', 'query'], ['audit', 'verify'], ['audit', 'export'], ['demo']]) {
    const r = await govex([...cmd, '--help'])
    t.equal(r.code, 0, cmd.join(' '))
    t.match(r.stdout, /Examples?:\n\s+\$ govex /, `${cmd.join(' ')} --help shows an example`)
  }
  const v = await govex(['--version'])
  t.equal(v.code, 0)
  t.match(v.stdout, /^\d+\.\d+\.\d+/)
})

t.test('a stack trace only with --debug or GOVEX_DEBUG', async t => {
  const dir = await tempDir(t)
  const args = ['plan', 'digest', join(dir, 'missing.json')]
  const plain = await govex(args)
  t.equal(plain.code, 1)
  t.equal(plain.stderr.trim().split('\n').length, 1)
  t.notMatch(plain.stderr, /\n\s+at /)
  const debug = await govex([...args, '--debug'])
  t.match(debug.stderr, /\n\s+at /)
  const env = await govex(args, { env: { GOVEX_DEBUG: '1' } })
  t.match(env.stderr, /\n\s+at /)
})
