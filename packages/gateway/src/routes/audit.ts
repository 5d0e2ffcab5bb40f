// The audit log for auditors (PROTOCOL.md "Audit"): a page of records by
// filter, the chain check (whole or over a time range, checkpoints checked
// with the gateway members' keys), statistics, and an NDJSON export. Filters
// are checked strictly: an unknown filter, a malformed date, from > to or a bad
// limit is a 400.
import { Readable } from 'node:stream'
import { checkpointKeysOf, normalizeFilter } from '@govex/core'
import type { AuditFilter, AuditRecord, AuditStatsBy, CheckpointKeys } from '@govex/core'
import type { FastifyInstance } from 'fastify'
import type { RouteOptions } from '../context.js'
import { httpError } from '../errors.js'
import { AuditExportAnswer, AuditExportQuery, AuditPageAnswer, AuditQuery, AuditStatsAnswer, AuditStatsQuery, AuditVerifyAnswer, AuditVerifyQuery, errorResponses } from '../http-schemas.js'

export const DEFAULT_AUDIT_LIMIT = 100
export const MAX_AUDIT_LIMIT = 1000

type AuditQueryString = AuditFilter & { limit?: string, cursor?: string }

/** The store filter of a query string, with dates checked. */
function filterOf (query: AuditQueryString): AuditFilter {
  const { limit: _limit, cursor: _cursor, ...raw } = query
  const filter = normalizeFilter(raw)
  if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to) {
    throw httpError('GOVEX_ERR_BAD_REQUEST', `from (${filter.from}) is later than to (${filter.to}); swap them`, [
      { code: 'invalid-range', path: '/from', message: 'must not be later than to' }
    ])
  }
  return filter
}

function limitOf (text: string | undefined): number {
  if (text === undefined) return DEFAULT_AUDIT_LIMIT
  const limit = Number(text)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_LIMIT) {
    throw httpError('GOVEX_ERR_BAD_REQUEST', `limit must be 1 to ${MAX_AUDIT_LIMIT}, got ${text}`, [
      { code: 'too-large', path: '/limit', message: `must be 1 to ${MAX_AUDIT_LIMIT}` }
    ])
  }
  return limit
}

async function * lines (records: AsyncIterable<AuditRecord>): AsyncGenerator<string> {
  // A few records a chunk: fewer, larger writes than one per record.
  let chunk = ''
  let count = 0
  for await (const record of records) {
    chunk += JSON.stringify(record) + '\n'
    if (++count === 64) {
      yield chunk
      chunk = ''
      count = 0
    }
  }
  if (chunk !== '') yield chunk
}

export async function auditRoutes (app: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const { stores } = ctx

  app.get<{ Querystring: AuditQueryString }>('/v1/audit', {
    config: { roles: ['auditor'] },
    schema: { summary: 'Audit records by filter, oldest first, a page at a time', tags: ['audit'], querystring: AuditQuery, response: { 200: AuditPageAnswer, ...errorResponses(400, 401, 403) } }
  }, async request => {
    const filter = filterOf(request.query)
    const limit = limitOf(request.query.limit)
    return await stores.audit.query(filter, limit, request.query.cursor)
  })

  /** The gateways' keys, from the member registry as the gateway knows it now. */
  const checkpointKeys = (): CheckpointKeys => {
    const gateways = []
    for (const member of ctx.runtime.state.memberDocs.values()) if (member.roles.includes('gateway')) gateways.push(member)
    return checkpointKeysOf(gateways)
  }

  app.get<{ Querystring: { from?: string, to?: string } }>('/v1/audit/verify', {
    config: { roles: ['auditor'] },
    schema: {
      summary: 'Walk every gateway\'s hash chain (from the last checkpoint before `from`, up to `to`), check checkpoint signatures, and name the first bad record',
      tags: ['audit'],
      querystring: AuditVerifyQuery,
      response: { 200: AuditVerifyAnswer, ...errorResponses(400, 401, 403) }
    }
  }, async request => {
    const { from, to } = filterOf(request.query)
    return await stores.audit.verify({ from, to, keys: checkpointKeys() })
  })

  app.get<{ Querystring: { by?: AuditStatsBy, from?: string, to?: string } }>('/v1/audit/stats', {
    config: { roles: ['auditor', 'operator'] },
    schema: {
      summary: 'Exchange records per consumer, provider, resource or outcome: counts and latency percentiles (p50, p95, p99)',
      tags: ['audit'],
      querystring: AuditStatsQuery,
      response: { 200: AuditStatsAnswer, ...errorResponses(400, 401, 403) }
    }
  }, async request => {
    const { by = 'consumer', ...range } = request.query
    return await stores.audit.statistics(by, filterOf(range))
  })

  app.get<{ Querystring: AuditQueryString }>('/v1/audit/export', {
    config: { roles: ['auditor'] },
    schema: { summary: 'Every matching record as NDJSON, one record a line', tags: ['audit'], querystring: AuditExportQuery, response: { 200: AuditExportAnswer, ...errorResponses(400, 401, 403) } }
  }, async (request, reply) => {
    const filter = filterOf(request.query)
    reply.type('application/x-ndjson; charset=utf-8')
    return Readable.from(lines(stores.audit.scan(filter)))
  })
}
