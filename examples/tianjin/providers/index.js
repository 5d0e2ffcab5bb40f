// Starts the three fake agency data services of the example (tj.psb on 4101,
// tj.mca on 4102, tj.hrss on 4103), the endpoints named in ../directories/.
// `node examples/tianjin/providers/index.js` runs them until Ctrl-C.
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createProviderServer } from './server.js'
import { psb } from './psb.js'
import { mca } from './mca.js'
import { hrss } from './hrss.js'

export const PROVIDERS = [psb, mca, hrss]

/**
 * Starts every provider. `log` is a function of one line or a logger with
 * `info` (pino); `ports` overrides ports by agency id (the directories keep
 * 4101-4103). Returns { close(), ready, ports } at once; awaiting the call waits
 * until every server listens — so both `startProviders().close()` and
 * `(await startProviders()).close()` work.
 */
export function startProviders ({ log = console.log, host = '127.0.0.1', ports = {} } = {}) {
  let closing
  const write = typeof log === 'function' ? log : log.info.bind(log)
  const servers = PROVIDERS.map(p => ({ provider: p, port: ports[p.agency] ?? p.port, server: createProviderServer({ ...p, log: write }) }))
  // `ports` holds the configured ports until each server listens, then the bound one (for port 0).
  const handle = { close, ready: undefined, ports: Object.fromEntries(servers.map(({ provider, port }) => [provider.agency, port])) }
  const ready = Promise.all(servers.map(({ provider, port, server }) => new Promise((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      handle.ports[provider.agency] = server.address().port
      write(`${provider.agency} provider listening on http://${host}:${handle.ports[provider.agency]}/ (${Object.keys(provider.resources).join(', ')})`)
      resolveListen()
    })
  }))).then(() => {
    write('providers do not verify the gateway JWT here: that is the job of the @govex/sdk provider plugin; they only require a Bearer token')
  })
  handle.ready = ready
  // A server that failed to listen must not leave its siblings running.
  ready.catch(() => close())
  function close () {
    closing ??= Promise.all(servers.map(({ server }) => new Promise(resolveClose => {
      if (!server.listening) return resolveClose()
      server.close(() => resolveClose())
      server.closeAllConnections()
    }))).then(() => {})
    return closing
  }
  // A thenable, so `await startProviders()` waits for `ready` and yields the plain handle.
  return { ...handle, then: (onReady, onError) => ready.then(() => handle).then(onReady, onError) }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const providers = startProviders()
  providers.ready.catch(err => {
    console.error(`cannot start the providers: ${err.message}`)
    process.exitCode = 1
  })
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => providers.close())
}
