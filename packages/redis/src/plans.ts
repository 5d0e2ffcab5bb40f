// Sharing plans on Redis: a hash `<id>:<version>` -> PlanState JSON, a hash of
// each id's latest version and a string naming the active plan. create and
// update are Lua scripts, so a compare-and-set and the activation that
// supersedes the previous active plan are one atomic step for every gateway.
import type { Redis } from 'ioredis'
import type { PlanState, PlanStatus, PlanStore, StoreChange } from '@govex/core'
import { GovexError } from '@govex/core'
import { guarded, LuaScript } from './connection.js'
import type { KeyLayout } from './keys.js'

// KEYS: plans, latest, active
// ARGV: mode, field, json, expected, status, prevField, prevJson, channel, change, prevChange, id, version
const WRITE = new LuaScript(`
local plans, latest, active = KEYS[1], KEYS[2], KEYS[3]
local mode, field, json, expected, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local prevField, prevJson = ARGV[6], ARGV[7]
local channel, change, prevChange, id, version = ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local cur = redis.call('HGET', plans, field)
if mode == 'create' then
  if cur then
    return redis.error_reply('GOVEX_ERR_CONFLICT plan ' .. id .. ' version ' .. version .. ' exists; submit a change as a new version')
  end
else
  if not cur then
    return redis.error_reply('GOVEX_ERR_NOT_FOUND plan ' .. id .. ' version ' .. version .. ' does not exist')
  end
  local curStatus = cjson.decode(cur).status
  if curStatus ~= expected then
    return redis.error_reply('GOVEX_ERR_CONFLICT plan ' .. id .. ' version ' .. version .. ' is ' .. tostring(curStatus) .. ', not ' .. expected)
  end
end
local act = redis.call('GET', active)
if status == 'active' then
  if (act or '') ~= prevField then return 'RETRY' end
  if act and act ~= field then
    local prev = redis.call('HGET', plans, act)
    if not prev or cjson.decode(prev).status ~= 'active' then return 'RETRY' end
    redis.call('HSET', plans, act, prevJson)
    redis.call('PUBLISH', channel, prevChange)
  end
  redis.call('SET', active, field)
elseif act == field then
  redis.call('DEL', active)
end
redis.call('HSET', plans, field, json)
local l = redis.call('HGET', latest, id)
if not l or tonumber(version) > tonumber(l) then redis.call('HSET', latest, id, version) end
redis.call('PUBLISH', channel, change)
return 'OK'
`)

// KEYS: plans, latest; ARGV: id
const GET_LATEST = new LuaScript(`
local v = redis.call('HGET', KEYS[2], ARGV[1])
if not v then return false end
return redis.call('HGET', KEYS[1], ARGV[1] .. ':' .. v)
`)

// KEYS: plans, active
const GET_ACTIVE = new LuaScript(`
local f = redis.call('GET', KEYS[2])
if not f then return false end
return redis.call('HGET', KEYS[1], f)
`)

/** Optimistic retries when another gateway activates a plan between our read and our script. */
const MAX_ATTEMPTS = 10

function fieldOf (id: string, version: number): string {
  return `${id}:${version}`
}

function parseState (json: unknown): PlanState | undefined {
  return typeof json === 'string' ? JSON.parse(json) as PlanState : undefined
}

export class RedisPlanStore implements PlanStore {
  constructor (private readonly client: Redis, private readonly keys: KeyLayout) {}

  async get (id: string, version?: number): Promise<PlanState | undefined> {
    return await guarded(`reading plan ${id} from Redis`, async () => {
      if (version === undefined) return parseState(await GET_LATEST.run(this.client, [this.keys.plans, this.keys.planLatest], [id]))
      return parseState(await this.client.hget(this.keys.plans, fieldOf(id, version)))
    })
  }

  async list (): Promise<PlanState[]> {
    const all = await guarded('listing plans in Redis', () => this.client.hgetall(this.keys.plans))
    return Object.values(all)
      .map(json => JSON.parse(json) as PlanState)
      .sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : a.version - b.version)
  }

  async getActive (): Promise<PlanState | undefined> {
    return await guarded('reading the active plan from Redis', async () =>
      parseState(await GET_ACTIVE.run(this.client, [this.keys.plans, this.keys.planActive], [])))
  }

  async create (state: PlanState): Promise<void> {
    await this.#write('create', state, '')
  }

  async update (state: PlanState, expected: PlanStatus): Promise<void> {
    await this.#write('update', state, expected)
  }

  async #write (mode: 'create' | 'update', state: PlanState, expected: PlanStatus | ''): Promise<void> {
    const field = fieldOf(state.id, state.version)
    const change: StoreChange = { kind: 'plan', id: state.id, version: state.version }
    await guarded(`writing plan ${state.id} version ${state.version} to Redis`, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        let prevField = ''
        let prevJson = ''
        let prevChange = ''
        if (state.status === 'active') {
          // the superseded state is built here, not in Lua: cjson would rewrite the document
          const previous = await this.getActive()
          if (previous !== undefined) {
            prevField = fieldOf(previous.id, previous.version)
            prevJson = JSON.stringify({ ...previous, status: 'superseded', supersededAt: state.activatedAt })
            prevChange = JSON.stringify({ kind: 'plan', id: previous.id, version: previous.version } satisfies StoreChange)
          }
        }
        const answer = await WRITE.run(this.client, [this.keys.plans, this.keys.planLatest, this.keys.planActive], [
          mode, field, JSON.stringify(state), expected, state.status, prevField, prevJson,
          this.keys.changes, JSON.stringify(change), prevChange, state.id, String(state.version)
        ])
        if (answer === 'OK') return
      }
      throw new GovexError('GOVEX_ERR_CONFLICT', `plan ${state.id} version ${state.version}: other gateways kept activating plans at the same time; retry`)
    })
  }
}
