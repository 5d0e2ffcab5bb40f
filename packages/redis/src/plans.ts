// Sharing plans on Redis: a hash `<id>:<version>` -> PlanState JSON, a hash of
// each id's latest version and a string naming the active plan. create and
// update are Lua scripts, so a compare-and-set and the activation that
// supersedes the previous active plan are one atomic step for every gateway.
//
// A plan of 100,000 grants is ~28 MB of JSON. States are handed out parsed and
// deeply frozen, and the last few are remembered with their JSON: a read whose
// JSON is byte for byte one remembered answers that same object, without
// parsing it again (so the runtime sees the active plan unchanged and does not
// index it again), and a lifecycle step serialises only what it changed around
// the grants' bytes. The write script finds a state's status in a small hash
// beside the documents instead of decoding ~28 MB of JSON in Redis, which
// blocked every gateway's Redis for ~0.4 s per decode.
import type { Redis } from 'ioredis'
import type { PlanState, PlanStatus, PlanStore, StoreChange } from '@govex/core'
import { GovexError, freezePlanState, planStateJson, planStateJsonReusing } from '@govex/core'
import { guarded, LuaScript } from './connection.js'
import type { KeyLayout } from './keys.js'

// The status of a stored state. Each write records `<status> <bytes>` of the
// document it stores in the statuses hash, so a compare-and-set reads a few
// bytes instead of copying ~28 MB into Lua (~80 ms of Redis time, ~0.4 s more
// to decode it). The entry is trusted while the document has that length (a
// writer that does not keep the hash, an older gateway, changes it); otherwise
// the document's one `"status":"` is read in place (JSON.stringify writes no
// space, and a string holding those characters escapes its quotes), and only
// when that is ambiguous is the document decoded.
const STATUS_OF = `
local function statusOf(json)
  local at = string.find(json, '"status":"', 1, true)
  if at and not string.find(json, '"status":"', at + 10, true) then
    local s = string.match(json, '^"status":"([^"\\\\]*)"', at)
    if s then return s end
  end
  return cjson.decode(json).status
end
local function storedStatus(plans, statuses, field)
  local entry = redis.call('HGET', statuses, field)
  if entry then
    local s, bytes = string.match(entry, '^(%a+) (%d+)$')
    if s and tonumber(bytes) == redis.call('HSTRLEN', plans, field) then return s end
  end
  local json = redis.call('HGET', plans, field)
  if not json then return nil end
  return statusOf(json)
end
`

// KEYS: plans, latest, active, statuses
// ARGV: mode, field, json, expected, status, prevField, prevJson, channel, change, prevChange, id, version
const WRITE = new LuaScript(STATUS_OF + `
local plans, latest, active, statuses = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode, field, json, expected, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local prevField, prevJson = ARGV[6], ARGV[7]
local channel, change, prevChange, id, version = ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]
if mode == 'create' then
  if redis.call('HEXISTS', plans, field) == 1 then
    return redis.error_reply('GOVEX_ERR_CONFLICT plan ' .. id .. ' version ' .. version .. ' exists; submit a change as a new version')
  end
else
  local curStatus = storedStatus(plans, statuses, field)
  if curStatus == nil then
    return redis.error_reply('GOVEX_ERR_NOT_FOUND plan ' .. id .. ' version ' .. version .. ' does not exist')
  end
  if curStatus ~= expected then
    return redis.error_reply('GOVEX_ERR_CONFLICT plan ' .. id .. ' version ' .. version .. ' is ' .. tostring(curStatus) .. ', not ' .. expected)
  end
end
local act = redis.call('GET', active)
if status == 'active' then
  if (act or '') ~= prevField then return 'RETRY' end
  if act and act ~= field then
    if storedStatus(plans, statuses, act) ~= 'active' then return 'RETRY' end
    redis.call('HSET', plans, act, prevJson)
    redis.call('HSET', statuses, act, 'superseded ' .. #prevJson)
    redis.call('PUBLISH', channel, prevChange)
  end
  redis.call('SET', active, field)
elseif act == field then
  redis.call('DEL', active)
end
redis.call('HSET', plans, field, json)
redis.call('HSET', statuses, field, status .. ' ' .. #json)
local l = redis.call('HGET', latest, id)
if not l or tonumber(version) > tonumber(l) then redis.call('HSET', latest, id, version) end
redis.call('PUBLISH', channel, change)
return 'OK'
`)

/** Optimistic retries when another gateway activates a plan between our read and our script. */
const MAX_ATTEMPTS = 10

function fieldOf (id: string, version: number): string {
  return `${id}:${version}`
}

/** States remembered with their JSON: the active plan, the last written, one more. */
const KNOWN = 3

interface Known {
  readonly state: PlanState
  /** the state's JSON as stored */
  readonly json: Buffer
}

type ScriptArg = string | Buffer

/** Runs a script whose arguments may be bytes (LuaScript.run takes strings). */
async function runScript (client: Redis, script: LuaScript, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
  try {
    return await client.call('evalsha', [script.sha, keys.length, ...keys, ...args])
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return await client.call('eval', [script.source, keys.length, ...keys, ...args])
    throw err
  }
}

export class RedisPlanStore implements PlanStore {
  readonly #known: Known[] = []
  /** hash `<id>:<version>` -> `<status> <bytes of the stored JSON>` (see STATUS_OF) */
  readonly #statuses: string

  constructor (private readonly client: Redis, private readonly keys: KeyLayout) {
    this.#statuses = keys.plans + ':status'
  }

  async get (id: string, version?: number): Promise<PlanState | undefined> {
    return await guarded(`reading plan ${id} from Redis`, async () => {
      if (version !== undefined) return this.#state(await this.client.hgetBuffer(this.keys.plans, fieldOf(id, version)), true)
      // The latest version, read with HGETs rather than a script (which would copy the
      // document into Lua first): versions only grow, so one still latest after its
      // document was read was the latest when it was read.
      let latest = await this.client.hget(this.keys.planLatest, id)
      for (let attempt = 1; ; attempt++) {
        if (latest === null) return undefined
        const json = await this.client.hgetBuffer(this.keys.plans, `${id}:${latest}`)
        const now = await this.client.hget(this.keys.planLatest, id)
        if (now === latest || attempt === MAX_ATTEMPTS) return this.#state(json, true)
        latest = now
      }
    })
  }

  async list (): Promise<PlanState[]> {
    const all = await guarded('listing plans in Redis', () => this.client.hgetallBuffer(this.keys.plans))
    return Object.values(all)
      .map(json => this.#state(json, false) as PlanState)
      .sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : a.version - b.version)
  }

  /**
   * The plan the active key names. Read with GET and HGET rather than a script:
   * a script copies the 28 MB document into Lua first, ~100 ms of Redis time
   * for every gateway at every plan change. A state read as active was the
   * active plan when read (a script switches the key and the superseded state
   * together); otherwise the key moved in between, and it is read again.
   */
  async getActive (): Promise<PlanState | undefined> {
    return await guarded('reading the active plan from Redis', async () => {
      let field = await this.client.get(this.keys.planActive)
      for (let attempt = 1; ; attempt++) {
        if (field === null) return undefined
        const state = this.#state(await this.client.hgetBuffer(this.keys.plans, field), true)
        if (state?.status === 'active' || attempt === MAX_ATTEMPTS) return state
        const now = await this.client.get(this.keys.planActive)
        // The key still names it: that is what is stored, active or not.
        if (now === field) return state
        field = now
      }
    })
  }

  async create (state: PlanState): Promise<void> {
    await this.#write('create', state, '')
  }

  async update (state: PlanState, expected: PlanStatus): Promise<void> {
    await this.#write('update', state, expected)
  }

  /** The state stored as `json`: a remembered one when the bytes are the same, else parsed and frozen. */
  #state (json: unknown, remember: boolean): PlanState | undefined {
    if (!Buffer.isBuffer(json)) return undefined
    for (const known of this.#known) {
      if (known.json.length === json.length && known.json.equals(json)) return known.state
    }
    const state = freezePlanState(JSON.parse(json.toString('utf8')) as PlanState)
    if (remember) this.#remember(state, json)
    return state
  }

  #remember (state: PlanState, json: Buffer): void {
    const at = this.#known.findIndex(known => known.state.id === state.id && known.state.version === state.version)
    if (at >= 0) this.#known.splice(at, 1)
    this.#known.push({ state, json })
    if (this.#known.length > KNOWN) this.#known.shift()
  }

  /** JSON.stringify(state) as bytes, around the grants' bytes of a remembered state that shares them. */
  async #json (state: PlanState): Promise<Buffer> {
    const previous = this.#known.find(known => known.state.grants === state.grants)
    if (previous === undefined) return planStateJson(state)
    return await planStateJsonReusing(state, previous.state, async () => previous.json)
  }

  async #write (mode: 'create' | 'update', state: PlanState, expected: PlanStatus | ''): Promise<void> {
    const field = fieldOf(state.id, state.version)
    const change: StoreChange = { kind: 'plan', id: state.id, version: state.version }
    // The store keeps the state it is given, as the memory and file stores do.
    freezePlanState(state)
    await guarded(`writing plan ${state.id} version ${state.version} to Redis`, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        let prevField = ''
        let prevJson: ScriptArg = ''
        let prevChange = ''
        let superseded: PlanState | undefined
        if (state.status === 'active') {
          // the superseded state is built here, not in Lua: cjson would rewrite the document
          const previous = await this.getActive()
          if (previous !== undefined) {
            prevField = fieldOf(previous.id, previous.version)
            superseded = freezePlanState({ ...previous, status: 'superseded', supersededAt: state.activatedAt })
            prevJson = await this.#json(superseded)
            prevChange = JSON.stringify({ kind: 'plan', id: previous.id, version: previous.version } satisfies StoreChange)
          }
        }
        // Serialised last, so planStateJson() still has it when the caller answers with the state.
        const json = await this.#json(state)
        const answer = await runScript(this.client, WRITE, [this.keys.plans, this.keys.planLatest, this.keys.planActive, this.#statuses], [
          mode, field, json, expected, state.status, prevField, prevJson,
          this.keys.changes, JSON.stringify(change), prevChange, state.id, String(state.version)
        ])
        if (answer === 'OK') {
          if (superseded !== undefined) this.#remember(superseded, prevJson as Buffer)
          this.#remember(state, json)
          return
        }
      }
      throw new GovexError('GOVEX_ERR_CONFLICT', `plan ${state.id} version ${state.version}: other gateways kept activating plans at the same time; retry`)
    })
  }
}
