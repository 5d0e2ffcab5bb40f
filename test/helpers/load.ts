// Load against a gateway on a real socket: a plan activated over HTTP, a
// steady mix of allowed and refused exchanges from several workers, every
// answer tallied by status and code, the ids of 200s kept, and the gateway
// process's RSS sampled from /proc.
import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { signApproval } from '@govex/core'
import type { Plan } from '@govex/core'
import type { Actors } from '../../packages/gateway/test/helpers/deployment.js'
import { PURPOSE } from '../../packages/gateway/test/helpers/deployment.js'

export async function http (base: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number, json: Record<string, unknown> }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000)
  })
  const text = await res.text()
  let json: Record<string, unknown> = {}
  try { json = JSON.parse(text) as Record<string, unknown> } catch {}
  return { status: res.status, json }
}

/** POST, approve, activate a plan over HTTP; throws on any refusal. */
export async function activateOverHttp (base: string, actors: Actors, plan: Plan): Promise<void> {
  const created = await http(base, 'POST', '/v1/plans', actors.operator.auth(), plan)
  if (created.status !== 201) throw new Error('plan refused: ' + JSON.stringify(created.json))
  const signature = signApproval(created.json.digest as string, actors.approver.privateJwk)
  const approved = await http(base, 'POST', `/v1/plans/${plan.id}/approve`, actors.approver.auth(), { signature })
  if (approved.status !== 200) throw new Error('approval refused: ' + JSON.stringify(approved.json))
  const active = await http(base, 'POST', `/v1/plans/${plan.id}/activate`, actors.operator.auth())
  if (active.status !== 200) throw new Error('activation refused: ' + JSON.stringify(active.json))
}

/** The request mix: mostly allowed, the rest refused for several reasons. */
export function mixedRequest (i: number): { resource: string, body: Record<string, unknown>, expect: 'allowed' | 'refused' } {
  const id = randomUUID()
  const base = { id, purpose: PURPOSE, userId: 'officer-4711', caseRef: 'MCA-2026-000123', query: { idNumber: '120101199001011234' } }
  switch (i % 8) {
    case 0: return { resource: 'tj.psb:household-registration', body: { ...base, caseRef: undefined }, expect: 'refused' }
    case 1: return { resource: 'tj.psb:household-registration', body: { ...base, purpose: 'curiosity' }, expect: 'refused' }
    case 2: return { resource: 'tj.psb:case-files', body: base, expect: 'refused' }
    case 3: return { resource: 'tj.psb:household-registration', body: { ...base, fields: ['idNumber'] }, expect: 'refused' }
    default: return { resource: 'tj.psb:household-registration', body: base, expect: 'allowed' }
  }
}

export interface Tally {
  sent: number
  byStatus: Map<number, number>
  fiveXX: number
  networkErrors: number
  /** envelope ids answered 200 */
  allowedIds: Set<string>
  /** envelope ids of every request that got an HTTP answer */
  answeredIds: string[]
  maxMs: number
}

export function newTally (): Tally {
  return { sent: 0, byStatus: new Map(), fiveXX: 0, networkErrors: 0, allowedIds: new Set(), answeredIds: [], maxMs: 0 }
}

/** One exchange over HTTP, tallied. Network errors (a killed gateway) are counted, not thrown. */
export async function sendOne (base: string, headers: Record<string, string>, i: number, tally: Tally, onAnswer?: (status: number, code: string | undefined, ms: number) => void): Promise<void> {
  const { resource, body } = mixedRequest(i)
  tally.sent++
  const started = performance.now()
  try {
    const res = await http(base, 'POST', '/v1/exchange/' + resource, headers, body)
    const ms = performance.now() - started
    tally.maxMs = Math.max(tally.maxMs, ms)
    tally.byStatus.set(res.status, (tally.byStatus.get(res.status) ?? 0) + 1)
    if (res.status >= 500) tally.fiveXX++
    if (res.status === 200) tally.allowedIds.add(body.id as string)
    tally.answeredIds.push(body.id as string)
    onAnswer?.(res.status, res.json.code as string | undefined, ms)
  } catch {
    tally.networkErrors++
  }
}

/** RSS in MiB of a process, from /proc (Linux); null elsewhere. */
export function rssMb (pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /VmRSS:\s+(\d+) kB/.exec(status)
    return match === null ? null : Number(match[1]) / 1024
  } catch {
    return null
  }
}

/** Runs `worker` from `workers` loops until `stop()` says so. */
export async function runWorkers (workers: number, stop: () => boolean, worker: (n: number) => Promise<void>): Promise<void> {
  let n = 0
  await Promise.all(Array.from({ length: workers }, async () => {
    while (!stop()) await worker(n++)
  }))
}
