// Shared checks for the reliability tests: every answer is a 2xx/3xx or a
// coded 4xx in the PROTOCOL.md error shape (never a 5xx unless a fault was
// injected), cached tokens for long runs, the run sizes the stress script
// raises, and the summary line each test reports to it.
import { appendFileSync } from 'node:fs'
import type { Actor } from '../../packages/gateway/test/helpers/deployment.js'

/** fast-check runs per property: a few hundred in `pnpm test`, many more under `pnpm test:stress`. */
export function runs (quick: number, stress: number): number {
  const factor = process.env.GOVEX_STRESS === '1' ? stress : quick
  return Number(process.env.GOVEX_FUZZ_RUNS ?? factor)
}

export const STRESS = process.env.GOVEX_STRESS === '1'

/** Why an answer breaks the rules (a 5xx, a crash, an error without a code), or null. */
export function badAnswer (res: { statusCode: number, body: string, headers: Record<string, unknown> }, allow5xx = false): string | null {
  const status = res.statusCode
  if (status >= 500 && !allow5xx) return `answered ${status}: ${res.body.slice(0, 300)}`
  if (status < 400) return null
  let body: { statusCode?: unknown, code?: unknown, requestId?: unknown, message?: unknown }
  try {
    body = JSON.parse(res.body) as typeof body
  } catch {
    return `error ${status} is not JSON: ${res.body.slice(0, 200)}`
  }
  if (typeof body.code !== 'string' || !body.code.startsWith('GOVEX_ERR_')) return `error ${status} without a govex code: ${res.body.slice(0, 200)}`
  if (body.statusCode !== status) return `error body says ${String(body.statusCode)}, status is ${status}`
  if (typeof body.requestId !== 'string' || body.requestId === '') return `error ${status} without a requestId`
  if (typeof body.message !== 'string' || body.message === '') return `error ${status} without a message`
  return null
}

export function injectedAnswer (res: { statusCode: number, body: string, headers: Record<string, unknown> }, allow5xx = false): string | null {
  return badAnswer({ statusCode: res.statusCode, body: res.body, headers: res.headers }, allow5xx)
}

/** Tokens reused until close to expiry: long runs would otherwise spend most time signing. */
export function tokenCache (): (actor: Actor) => Record<string, string> {
  const cache = new Map<string, { at: number, headers: Record<string, string> }>()
  return actor => {
    const hit = cache.get(actor.id)
    if (hit !== undefined && Date.now() - hit.at < 60_000) return hit.headers
    const headers = actor.auth()
    cache.set(actor.id, { at: Date.now(), headers })
    return headers
  }
}

export interface StressSummary {
  name: string
  cases?: number
  faults?: number
  requests?: number
  auditRecords?: number
  lost?: number
  fiveXX?: number
  peakRssMb?: number
  [key: string]: unknown
}

/** Appends the test's figures for test/stress/run.js (a no-op outside it). */
export function report (summary: StressSummary): void {
  const file = process.env.GOVEX_STRESS_REPORT
  if (file !== undefined && file !== '') appendFileSync(file, JSON.stringify(summary) + '\n')
}

/** True when nothing polluted Object.prototype. */
export function prototypeClean (): boolean {
  const probe: Record<string, unknown> = {}
  return probe.polluted === undefined && probe.isAdmin === undefined && probe.roles === undefined && (Object.prototype as Record<string, unknown>).polluted === undefined
}
