// A gateway in a process of its own (fix-one-gateway-per-data-folder): starts
// the config of argv[2] on a free port and prints one JSON line, {"url"} or
// {"code","message"} (then exits 3); SIGTERM stops it cleanly ({"closed":true}).
import { loadConfig, startGateway } from '../../src/index.js'

const say = (value: unknown): void => { process.stdout.write(JSON.stringify(value) + '\n') }

let gateway
try {
  const config = await loadConfig(process.argv[2] ?? '', { GOVEX_PORT: '0', GOVEX_LOG__LEVEL: 'silent' })
  gateway = await startGateway(config, { signals: false })
} catch (err) {
  say({ code: (err as { code?: string }).code, message: (err as Error).message })
  process.exit(3)
}
const running = gateway
process.once('SIGTERM', () => {
  void running.close().then(() => {
    say({ closed: true })
    process.exit(0)
  })
})
say({ url: running.url })
