// Appending a batch of sealed audit records to a gateway's stream in one Lua
// script: the stream entry (explicit id `<seq>-1`), the index entries and the
// chain head move together. The script checks the batch continues the stored
// chain first and writes only then, so a batch lands whole or not at all; a
// record already stored with the same hash is skipped, which makes a retried
// append (after a lost reply, or from the spool) harmless.
import type { Redis } from 'ioredis'
import type { AuditRecord, SealedRecord } from '@govex/core'
import { LuaScript } from './connection.js'
import { indexMember, type KeyLayout } from './keys.js'

/** Error reply of the script when a batch does not continue the stored chain. */
export const CHAIN_ERROR = 'GOVEX_CHAIN'

// KEYS: stream, gateways set, heads hash, then each record's index keys in order
// ARGV: gatewayId, N, then per record: seq, hash, prevHash, score, member, json, number of index keys
const APPEND = new LuaScript(`
local stream, gateways, heads = KEYS[1], KEYS[2], KEYS[3]
local gw, n = ARGV[1], tonumber(ARGV[2])
local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
local lastSeq, lastSeqText, lastHash = 0, '0', 'sha256:' .. string.rep('0', 64)
if last[1] then
  lastSeqText = string.match(last[1][1], '^(%d+)')
  lastSeq = tonumber(lastSeqText)
  lastHash = last[1][2][4]
end
local fresh = {}
for i = 0, n - 1 do
  local b = 3 + i * 7
  local seq, hash, prevHash = tonumber(ARGV[b]), ARGV[b + 1], ARGV[b + 2]
  if seq <= lastSeq then
    local e = redis.call('XRANGE', stream, ARGV[b] .. '-1', ARGV[b] .. '-1')
    if not e[1] or e[1][2][4] ~= hash then
      return redis.error_reply('GOVEX_CHAIN record ' .. ARGV[b] .. ' of ' .. gw .. ' is already stored with another hash')
    end
    fresh[i] = false
  elseif seq == lastSeq + 1 and prevHash == lastHash then
    fresh[i] = true
    lastSeq, lastSeqText, lastHash = seq, ARGV[b], hash
  else
    return redis.error_reply('GOVEX_CHAIN record ' .. ARGV[b] .. ' of ' .. gw .. ' does not follow the stored chain head ' .. lastSeqText)
  end
end
local k, added = 4, 0
for i = 0, n - 1 do
  local b = 3 + i * 7
  local nIdx = tonumber(ARGV[b + 6])
  if fresh[i] then
    redis.call('XADD', stream, ARGV[b] .. '-1', 'r', ARGV[b + 5], 'h', ARGV[b + 1])
    for j = 0, nIdx - 1 do redis.call('ZADD', KEYS[k + j], ARGV[b + 3], ARGV[b + 4]) end
    added = added + 1
  end
  k = k + nIdx
end
if added > 0 then
  redis.call('SADD', gateways, gw)
  redis.call('HSET', heads, gw, lastSeqText .. ' ' .. lastHash)
end
return added
`)

/** The index sorted sets a record belongs to (see query.ts for how they are read). */
export function indexKeysOf (record: AuditRecord, keys: KeyLayout): string[] {
  const out = [keys.auditIndex('all', '')]
  if (record.kind === 'exchange') {
    out.push(keys.auditIndex('consumer', record.consumer))
    if (record.provider !== null) out.push(keys.auditIndex('provider', record.provider))
    if (record.resource !== null) out.push(keys.auditIndex('resource', record.resource))
  } else if (record.kind === 'checkpoint') {
    out.push(keys.auditIndex('checkpoint', record.gatewayId))
  }
  return out
}

/** A record as sealed, or as read back from the spool (its stored line, when known). */
export type Sealed = SealedRecord | { record: AuditRecord, line?: undefined }

/** Resolves with the number of records newly stored (the rest were stored already). */
export async function appendRecords (client: Redis, keys: KeyLayout, gatewayId: string, sealed: readonly Sealed[]): Promise<number> {
  const scriptKeys = [keys.auditStream(gatewayId), keys.auditGateways, keys.auditHeads]
  const args: Array<string | number> = [gatewayId, sealed.length]
  for (const { record, line } of sealed) {
    const indexKeys = indexKeysOf(record, keys)
    for (const key of indexKeys) scriptKeys.push(key)
    args.push(String(record.seq), record.hash, record.prevHash, Date.parse(record.ts), indexMember(gatewayId, record.seq), line ?? JSON.stringify(record), indexKeys.length)
  }
  return Number(await APPEND.run(client, scriptKeys, args))
}

/** Parses stream entries (`[id, [field, value, ...]]`) into records. */
export function recordsOf (entries: ReadonlyArray<[string, string[]]>): AuditRecord[] {
  const out: AuditRecord[] = []
  for (const [, fields] of entries) {
    const at = fields.indexOf('r')
    const json = at >= 0 ? fields[at + 1] : undefined
    if (json !== undefined) out.push(JSON.parse(json) as AuditRecord)
  }
  return out
}

/** The last record of a gateway's stream, if any. */
export async function lastRecord (client: Redis, keys: KeyLayout, gatewayId: string): Promise<AuditRecord | undefined> {
  const entries = await client.xrevrange(keys.auditStream(gatewayId), '+', '-', 'COUNT', 1)
  return recordsOf(entries)[0]
}
