// Starts the three fake agency data services of the example (tj.psb on 4101,
// tj.mca on 4102, tj.hrss on 4103), the endpoints named in ../directories/.
// `node examples/tianjin/providers/index.js` runs them until Ctrl-C.
import { readFileSync } from 'node:fs'
import { resolve, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createProviderServer } from './server.js'
import { EXAMPLE_DIR } from '../setup.js'
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
export function startProviders ({ log = console.log, host = '127.0.0.1', ports = {}, verifierFor } = {}) {
  let closing
  const write = typeof log === 'function' ? log : log.info.bind(log)
  const servers = PROVIDERS.map(p => ({ provider: p, port: ports[p.agency] ?? p.port, server: createProviderServer({ ...p, log: write, verify: verifierFor?.(p.agency) }) }))
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
    write(verifierFor === undefined
      ? 'providers do NOT verify the gateway JWT (no verifierFor given); they only require a Bearer token'
      : 'providers verify every gateway call (JWT, aud, digest of the body) with @govex/sdk')
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

/**
 * A `verifierFor(agency)` that trusts the keys of every member with role
 * `gateway` in data-seed/members.json (written by setup.js), built with the
 * given `createGatewayVerifier` of @govex/sdk.
 */
export function gatewayVerifiers (createGatewayVerifier, dir = EXAMPLE_DIR) {
  const members = JSON.parse(readFileSync(join(dir, 'data-seed', 'members.json'), 'utf8'))
  const gatewayKeys = members
    .filter(m => m.roles.includes('gateway'))
    .flatMap(m => m.keys.map(key => ({ gatewayId: m.id, key })))
  return agency => createGatewayVerifier({ providerId: agency, gatewayKeys })
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { createGatewayVerifier } = await import('@govex/sdk')
  const providers = startProviders({ verifierFor: gatewayVerifiers(createGatewayVerifier) })
  providers.ready.catch(err => {
    console.error(`cannot start the providers: ${err.message}`)
    process.exitCode = 1
  })
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => providers.close())
}
