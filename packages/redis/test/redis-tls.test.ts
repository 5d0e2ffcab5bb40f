// TLS to Redis: rediss:// and rediss-sentinel://, against a redis-server and a
// sentinel of the test's own listening on TLS only, with a certificate from a
// CA made for the test (openssl). The stores run in a process of their own
// with NODE_EXTRA_CA_CERTS (how an operator trusts a private CA): they connect,
// append, and the audit reader verifies over its own TLS connection. Without
// the CA the connection is refused (the certificate is checked). Skipped when
// redis-server was built without TLS or openssl is missing.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { freePort } from './helpers/server.js'
import { sleep } from './helpers/fixtures.js'

const CHILD = fileURLToPath(new URL('./helpers/tls-child.ts', import.meta.url))

function makeCerts (dir: string): boolean {
  try {
    const run = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }) }
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=govex-test-ca')
    run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1')
    execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1,DNS:localhost\\n" > ext.cnf'], { cwd: dir })
    run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf')
    return true
  } catch {
    return false
  }
}

function tlsArgs (dir: string): string[] {
  return ['--tls-cert-file', join(dir, 'server.pem'), '--tls-key-file', join(dir, 'server.key'), '--tls-ca-cert-file', join(dir, 'ca.pem'), '--tls-auth-clients', 'no']
}

async function startTls (args: string[], port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: 'ignore' })
  // answers once the TLS port accepts: probe with redis-cli --tls when there, else wait a little
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server ${args.join(' ')} exited with ${String(child.exitCode)}`)
    try {
      execFileSync('redis-cli', ['--tls', '--insecure', '-p', String(port), 'PING'], { stdio: 'pipe', timeout: 1000 })
      return child
    } catch {
      await sleep(50)
    }
  }
  child.kill('SIGKILL')
  throw new Error(`redis-server on TLS port ${port} did not answer`)
}

function runChild (url: string, env: NodeJS.ProcessEnv): { ok: boolean, seqs?: number[], verified?: unknown, code?: string, message?: string } {
  const out = execFileSync(process.execPath, [...process.execArgv, CHILD, url], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 })
  return JSON.parse(out.trim().split('\n').at(-1) as string) as ReturnType<typeof runChild>
}

const dir = await mkdtemp(join(tmpdir(), 'govex-tls-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
let reason: string | undefined
if (!makeCerts(dir)) reason = 'openssl cannot make the test certificates'
else {
  try {
    execFileSync('redis-server', ['--port', '0', '--tls-port', String(await freePort()), '--test-memory', '1'], { stdio: 'pipe', timeout: 2000 })
  } catch (err) {
    const text = String((err as { stderr?: Buffer }).stderr ?? '')
    if (/tls-port|TLS/i.test(text) && /Bad directive|not supported|wrong number/i.test(text)) reason = 'redis-server was built without TLS'
  }
}
if (reason !== undefined) {
  console.error(`\n!!! SKIPPING the TLS tests: ${reason}\n`)
  t.plan(0, `SKIP ${reason}`)
} else {
  t.test('rediss:// with a private CA: connects, appends, the audit reader verifies over TLS; without the CA it is refused', async t => {
    const port = await freePort()
    const server = await startTls(['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...tlsArgs(dir)], port)
    t.teardown(() => { server.kill('SIGKILL') })
    const url = `rediss://127.0.0.1:${port}`
    t.same(runChild(url, { NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') }), { ok: true, seqs: [1, 2], verified: { ok: true, checked: 2 } })
    t.match(runChild(url, { NODE_EXTRA_CA_CERTS: '' }), { ok: false, code: 'GOVEX_ERR_UNAVAILABLE', message: /certificate/i }, 'without the CA: refused, the certificate named')
  })

  t.test('rediss-sentinel://: TLS to the sentinel and to the master it names', async t => {
    const masterPort = await freePort()
    const master = await startTls(['--port', '0', '--tls-port', String(masterPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...tlsArgs(dir)], masterPort)
    t.teardown(() => { master.kill('SIGKILL') })
    const port = await freePort()
    const conf = join(dir, 'sentinel.conf')
    await writeFile(conf, ['port 0', `tls-port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'tls-replication yes', `sentinel monitor main 127.0.0.1 ${masterPort} 1`, ''].join('\n'))
    const sentinel = await startTls([conf, '--sentinel', ...tlsArgs(dir)], port)
    t.teardown(() => { sentinel.kill('SIGKILL') })
    t.same(runChild(`rediss-sentinel://127.0.0.1:${port}#main`, { NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') }), { ok: true, seqs: [1, 2], verified: { ok: true, checked: 2 } })
  })
}
