// PROTOCOL.md "Command line": errors are one readable line. An error whose
// message already names its problems (the gateway's keyFile check: "keyFile … is
// not an Ed25519 private JWK …: /d is required") printed them a second time in
// the CLI's own form ("… /d is required: /d required is required"); each problem
// now appears once. Run as the real executable, as an operator meets it.
import t from 'tap'
import { join } from 'node:path'
import { built, runGovex } from './helpers/child.js'
import { govex, tempDir } from './helpers/run.js'

if (built(t)) {
  t.test('a keyFile holding a public key: one line, the problem named once', async t => {
    const dir = await tempDir(t)
    t.equal((await govex(['init', dir])).code, 0)
    const r = await runGovex(['start', '--config', join(dir, 'govex.config.json')], { env: { GOVEX_PORT: '0', GOVEX_KEY_FILE: './keys/city.mca.pub.json' } })
    t.equal(r.code, 1)
    t.equal(r.stdout, '', 'the gateway did not start')
    const lines = r.stderr.split('\n').filter(l => l !== '')
    t.equal(lines.length, 1, r.stderr)
    t.match(lines[0], /^error: keyFile .*city\.mca\.pub\.json is not an Ed25519 private JWK/)
    t.equal(lines[0]?.split('/d ').length, 2, `"/d" is named once: ${lines[0] ?? ''}`)
    t.notMatch(lines[0], /required is required/)
  })
}
