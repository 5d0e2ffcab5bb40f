// Grant quotas shared by every gateway, in one Lua script per request:
// perMinute is a sliding-window counter (the current 60 s bucket plus the
// previous one weighted by how much of it still lies in the window), perDay a
// counter per UTC calendar day. A request is counted only when both allow it.
import type { Redis } from 'ioredis'
import type { QuotaCounter, QuotaDecision, QuotaLimits } from '@govex/core'
import { guarded, LuaScript } from './connection.js'
import type { KeyLayout } from './keys.js'

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000

// The sliding-window arithmetic in Lua, shared by CONSUME and the exchange
// admission (replay.ts). It is MemoryQuotaCounter's, in integers times W, so
// rounding can never allow one request too many and both stores agree on
// every answer. Keys: current minute bucket, previous minute bucket, day
// counter, at KEYS[q], KEYS[q+1], KEYS[q+2]; ARGV: perMinute (0 = unlimited),
// perDay (0 = unlimited), ms into the current bucket, ms left in the UTC day.
// Leaves minuteWait and dayWait (ms; 0 = allowed) set.
export function quotaDecideLua (q: number): string {
  return `
local limitM, limitD = tonumber(ARGV[1]), tonumber(ARGV[2])
local elapsed, dayLeft = tonumber(ARGV[3]), tonumber(ARGV[4])
local W = 60000
local minuteWait, dayWait = 0, 0
if limitM > 0 then
  local C = tonumber(redis.call('GET', KEYS[${q}]) or '0')
  local P = tonumber(redis.call('GET', KEYS[${q + 1}]) or '0')
  if P * (W - elapsed) + (C + 1) * W > limitM * W then
    if C + 1 <= limitM then
      minuteWait = math.ceil(W * (P - (limitM - C - 1)) / P) - elapsed
    else
      -- this bucket alone is spent: in the next one it becomes the previous
      minuteWait = W - elapsed + math.ceil(W * (C - (limitM - 1)) / C)
    end
  end
end
if limitD > 0 then
  local D = tonumber(redis.call('GET', KEYS[${q + 2}]) or '0')
  if D >= limitD then dayWait = dayLeft end
end
`
}

/** Counts the request in the buckets quotaDecideLua(q) read; only when both waits are 0. */
export function quotaCommitLua (q: number): string {
  return `
if limitM > 0 then
  redis.call('INCR', KEYS[${q}])
  redis.call('PEXPIRE', KEYS[${q}], 2 * W - elapsed)
end
if limitD > 0 then
  redis.call('INCR', KEYS[${q + 2}])
  redis.call('PEXPIRE', KEYS[${q + 2}], dayLeft + 3600000)
end
`
}

/** The refusal, when one of the waits is not 0: { 0, 'minute'|'day', retry-after ms }. */
export const QUOTA_REFUSAL_LUA = `
if dayWait >= minuteWait then return { 0, 'day', dayWait } end
return { 0, 'minute', minuteWait }
`

// Answers { 1 } when counted, else the refusal.
const CONSUME = new LuaScript(`${quotaDecideLua(1)}
if minuteWait == 0 and dayWait == 0 then
${quotaCommitLua(1)}
  return { 1 }
end
${QUOTA_REFUSAL_LUA}`)

/** The keys and arguments of the quota scripts for one request. */
export function quotaKeysAndArgs (keys: KeyLayout, key: string, limits: QuotaLimits, nowMs: number): { keys: string[], args: number[] } {
  const bucket = Math.floor(nowMs / MINUTE_MS)
  const dayStart = Math.floor(nowMs / DAY_MS) * DAY_MS
  const day = new Date(dayStart).toISOString().slice(0, 10)
  return {
    keys: [keys.quotaMinute(key, bucket), keys.quotaMinute(key, bucket - 1), keys.quotaDay(key, day)],
    args: [limits.perMinute ?? 0, limits.perDay ?? 0, nowMs - bucket * MINUTE_MS, dayStart + DAY_MS - nowMs]
  }
}

/** The refusal a script answered: { 0, 'minute'|'day', retry-after ms }. */
export function quotaRefusal (answer: [number, string?, number?]): { window: 'minute' | 'day', retryAfterS: number } {
  return { window: answer[1] === 'day' ? 'day' : 'minute', retryAfterS: Math.max(1, Math.ceil((answer[2] ?? 1000) / 1000)) }
}

export class RedisQuotaCounter implements QuotaCounter {
  constructor (private readonly client: Redis, private readonly keys: KeyLayout) {}

  async consume (key: string, limits: QuotaLimits, nowMs: number): Promise<QuotaDecision> {
    if (limits.perMinute === undefined && limits.perDay === undefined) return { ok: true }
    const { keys, args } = quotaKeysAndArgs(this.keys, key, limits, nowMs)
    const answer = await guarded('counting quota in Redis', () => CONSUME.run(this.client, keys, args)) as [number, string?, number?]
    return answer[0] === 1 ? { ok: true } : { ok: false, ...quotaRefusal(answer) }
  }
}
