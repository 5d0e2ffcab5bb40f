// Prometheus metrics (PROTOCOL.md "Operations"), on a Registry of the gateway's
// own so two gateways in one process (tests) never share counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface GatewayMetrics {
  readonly registry: Registry
  readonly requests: Counter<'route' | 'method' | 'outcome' | 'code'>
  /** counts one answered request; cheap: a Map entry, turned into the counter at scrape time */
  countRequest (route: string, method: string, status: number, code: string | null): void
  readonly upstream: Histogram<'provider' | 'outcome'>
  readonly auditAppend: Histogram<'kind'>
  readonly activePlanVersion: Gauge<'plan'>
}

interface Tally {
  labels: { route: string, method: string, outcome: string, code: string }
  count: number
}

export function createMetrics (options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry()
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'govex_process_' })
  // prom-client hashes a label set on every inc(); per request we only bump a Map entry.
  const tallies = new Map<string, Tally>()
  const requests = new Counter({
    name: 'govex_requests_total',
    help: 'Requests answered, by route, method, outcome (allowed, denied, error) and govex error code',
    labelNames: ['route', 'method', 'outcome', 'code'],
    registers: [registry],
    collect () {
      this.reset()
      for (const tally of tallies.values()) this.inc(tally.labels, tally.count)
    }
  })
  return {
    registry,
    requests,
    countRequest (route, method, status, code) {
      const key = route + ' ' + method + ' ' + status + ' ' + (code ?? '')
      const tally = tallies.get(key)
      if (tally !== undefined) tally.count++
      // a 304 (the portal's If-None-Match) answered the request: it is not a refusal
      else tallies.set(key, { labels: { route, method, outcome: status < 400 ? 'allowed' : outcomeOf(status), code: code ?? '' }, count: 1 })
    },
    upstream: new Histogram({
      name: 'govex_upstream_duration_seconds',
      help: 'Time from forwarding an exchange to the provider\'s complete answer',
      labelNames: ['provider', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry]
    }),
    auditAppend: new Histogram({
      name: 'govex_audit_append_duration_seconds',
      help: 'Time for an audit record to become durable',
      labelNames: ['kind'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry]
    }),
    activePlanVersion: new Gauge({
      name: 'govex_active_plan_version',
      help: 'Version of the active sharing plan (no series when none is active)',
      labelNames: ['plan'],
      registers: [registry]
    })
  }
}

/** The outcome words of PROTOCOL.md "Audit", for a status. */
export function outcomeOf (status: number): 'allowed' | 'denied' | 'error' {
  return status >= 200 && status < 300 ? 'allowed' : status >= 500 ? 'error' : 'denied'
}
