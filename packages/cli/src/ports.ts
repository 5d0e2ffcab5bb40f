// Checking that a TCP port is free before starting servers on it, so a taken
// port is one clear sentence instead of an EADDRINUSE stack.
import { createServer } from 'node:net'
import { CliError } from './errors.js'

/** Resolves true when `port` can be bound on `host` right now. */
export function isPortFree (port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise(resolve => {
    const server = createServer()
    server.unref()
    server.once('error', () => { resolve(false) })
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => { resolve(true) })
    })
  })
}

/** A port from the command line; 0 means any free port. */
export function parsePort (value: string, flag: string): number {
  const port = Number(value)
  if (value.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`${flag} ${value} is not a TCP port (1-65535, or 0 for any free one)`)
  return port
}
