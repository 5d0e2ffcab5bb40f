// The gateway's log destination from the command line: pino JSON lines on
// stdout, or pino-pretty when stdout is a terminal (a person is reading).
import type { Writable } from 'node:stream'
import pinoPretty from 'pino-pretty'
import type { Io } from './io.js'

export interface GatewayLogger {
  /** pino options handed to the gateway (Fastify's `logger`) */
  options: { stream: Writable } | true
  /** flushes a pretty stream on the way out */
  close (): Promise<void>
}

export function gatewayLogger (io: Io): GatewayLogger {
  const pretty = io.stdout.isTTY === true && io.env.GOVEX_LOG_FORMAT !== 'json'
  if (!pretty) {
    // a captured stdout (tests) gets the JSON lines too
    if (io.stdout === process.stdout) return { options: true, close: async () => {} }
    const stream = sinkStream(io)
    return { options: { stream }, close: async () => {} }
  }
  const stream = pinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', destination: 1, sync: true })
  return {
    options: { stream },
    close: () => new Promise(resolve => { stream.end(() => { resolve() }) })
  }
}

function sinkStream (io: Io): Writable {
  return {
    write (chunk: string | Uint8Array): boolean {
      io.stdout.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
      return true
    }
  } as unknown as Writable
}
