// Replay guard shared by every gateway: an envelope id is a key set with
// NX and an expiry of the replay window, so the first claim anywhere wins.
// An exchange's admission checks the id and the grant's quota and spends both
// in one Lua script: one round trip, and atomic across gateways.
import type { Redis } from 'ioredis'
import { envelopeKey, type Admission, type AdmissionDecision, type ReplayGuard } from '@govex/core'
import { guarded, LuaScript } from './connection.js'
import type { KeyLayout } from './keys.js'
import { QUOTA_REFUSAL_LUA, quotaCommitLua, quotaDecideLua, quotaKeysAndArgs, quotaRefusal } from './quota.js'

// KEYS[1] the envelope id, KEYS[2..4] the quota buckets (absent: no quota);
// ARGV[1..4] the quota's (see quota.ts), ARGV[5] the replay window in seconds.
// Answers { 1 } admitted, { 2 } a replay, or the quota refusal.
const ADMIT = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return { 2 } end
if #KEYS > 1 then
${quotaDecideLua(2)}
  if minuteWait ~= 0 or dayWait ~= 0 then
${QUOTA_REFUSAL_LUA}
  end
${quotaCommitLua(2)}
end
redis.call('SET', KEYS[1], '1', 'EX', tonumber(ARGV[5]))
return { 1 }
`)

const REPLAYED: AdmissionDecision = Object.freeze({ ok: false, reason: 'replay' })
const ADMITTED: AdmissionDecision = Object.freeze({ ok: true })

export async function admitInRedis (client: Redis, keys: KeyLayout, admission: Admission): Promise<AdmissionDecision> {
  const seconds = Math.max(1, Math.ceil(admission.windowS))
  const q = admission.quota
  const quota = q !== undefined && (q.limits.perMinute !== undefined || q.limits.perDay !== undefined)
    ? quotaKeysAndArgs(keys, q.key, q.limits, q.nowMs)
    : { keys: [], args: [0, 0, 0, 0] }
  const answer = await guarded('admitting an exchange in Redis (replay guard and quota)', () =>
    ADMIT.run(client, [keys.replay(envelopeKey(admission.id)), ...quota.keys], [...quota.args, seconds])) as [number, string?, number?]
  if (answer[0] === 1) return ADMITTED
  if (answer[0] === 2) return REPLAYED
  return { ok: false, reason: 'quota', ...quotaRefusal(answer) }
}

// UUIDs are case-insensitive: one id in any spelling is one key, for claim as for admit
export class RedisReplayGuard implements ReplayGuard {
  constructor (private readonly client: Redis, private readonly keys: KeyLayout) {}

  async claim (id: string, windowS: number): Promise<boolean> {
    const seconds = Math.max(1, Math.ceil(windowS))
    const answer = await guarded('claiming an envelope id in Redis', () => this.client.set(this.keys.replay(envelopeKey(id)), '1', 'EX', seconds, 'NX'))
    return answer === 'OK'
  }

  async release (id: string): Promise<void> {
    await guarded('releasing an envelope id in Redis', () => this.client.del(this.keys.replay(envelopeKey(id))))
  }
}
