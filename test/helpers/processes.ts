// Real gateway processes for end-to-end tests: `govex start` (the built CLI)
// on a free port, waited for on /readyz, stopped with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const GOVEX_BIN = ROOT + 'packages/cli/bin/govex.js'
export const CLI_BUILT = existsSync(ROOT + 'packages/cli/dist/main.js')

export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

export interface GatewayProcess {
  url: string
  child: ChildProcess
  output: () => string
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

export async function startGatewayProcess (configFile: string, port: number, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [GOVEX_BIN, 'start', '--config', configFile], {
    env: { ...process.env, GOVEX_PORT: String(port), GOVEX_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}: ${output}`)
    try {
      const res = await fetch(url + '/readyz')
      if (res.status === 200) break
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`gateway not ready within 20 s: ${output}`)
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return {
    url,
    child,
    output: () => output,
    async stop (signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return await exited
    }
  }
}
