// A redis-server of the test's own (no persistence) on a free port, which the
// outage tests stop, freeze and restart by pid.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { redisAnswers } from './redis.js'
import { sleep } from './fixtures.js'

export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

export class OwnRedis {
  #child: ChildProcess | undefined
  readonly url: string

  constructor (readonly port: number, readonly args: readonly string[] = []) {
    this.url = `redis://127.0.0.1:${port}`
  }

  static async start (args: readonly string[] = []): Promise<OwnRedis> {
    const server = new OwnRedis(await freePort(), args)
    await server.start()
    return server
  }

  async start (): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.args], { stdio: 'ignore' })
    this.#child = child
    const deadline = Date.now() + 5000
    while (!await redisAnswers(this.url)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server on port ${this.port} did not start`)
      await sleep(25)
    }
  }

  get pid (): number {
    const pid = this.#child?.pid
    if (pid === undefined) throw new Error('not started')
    return pid
  }

  /** Kills the server (its data is gone: no persistence). */
  async kill (): Promise<void> {
    const child = this.#child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    process.kill(this.pid, 'SIGKILL')
    await exited
    this.#child = undefined
  }

  /** Freezes the server: connections stay open and nothing answers. */
  freeze (): void {
    process.kill(this.pid, 'SIGSTOP')
  }

  thaw (): void {
    process.kill(this.pid, 'SIGCONT')
  }
}
