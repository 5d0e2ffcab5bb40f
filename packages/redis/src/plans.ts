// Sharing plans on Redis: a hash `<id>:<version>` -> PlanState JSON, a hash of
// each id's latest version and a string naming the active plan. create and
// update are Lua scripts, so a compare-and-set and the activation that
// supersedes the previous active plan are one atomic step for every gateway.
//
// A plan of 100,000 grants is ~28 MB of JSON. States are handed out parsed and
// deeply frozen, and the last few are remembered with their JSON and the stamp
// of the write that stored them: a read finds the stamp unchanged and answers
// the same object without fetching the document (so the runtime sees the
// active plan unchanged and does not index it again), a fetched document
// byte for byte one remembered is not parsed again, and a lifecycle step
// serialises only what it changed around the grants' bytes. The write script
// finds a state's status in that small hash beside the documents instead of
// decoding ~28 MB of JSON in Redis, which blocked every gateway's Redis for
// ~0.4 s per decode.
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { PlanState, PlanStatus, PlanStore, StoreChange } from '@govex/core'
import { GovexError, freezePlanState, planStateJsonInTurns, planStateJsonReusing, supersedePlan } from '@govex/core'
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
    local s, bytes = string.match(entry, '^(%a+) (%d+)')
    if s and tonumber(bytes) == redis.call('HSTRLEN', plans, field) then return s end
  end
  local json = redis.call('HGET', plans, field)
  if not json then return nil end
  return statusOf(json)
end
`

// KEYS: plans, latest, active, statuses
// ARGV: mode, field, json, expected, status, prevField, prevJson, channel, change, prevChange, id, version, stamp, prevStamp
const WRITE = new LuaScript(STATUS_OF + `
local plans, latest, active, statuses = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode, field, json, expected, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local prevField, prevJson = ARGV[6], ARGV[7]
local channel, change, prevChange, id, version = ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local stamp, prevStamp = ARGV[13], ARGV[14]
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
    redis.call('HSET', statuses, act, 'superseded ' .. #prevJson .. ' ' .. prevStamp)
    redis.call('PUBLISH', channel, prevChange)
  end
  redis.call('SET', active, field)
elseif act == field then
  redis.call('DEL', active)
end
redis.call('HSET', plans, field, json)
redis.call('HSET', statuses, field, status .. ' ' .. #json .. ' ' .. stamp)
local l = redis.call('HGET', latest, id)
if not l or tonumber(version) > tonumber(l) then redis.call('HSET', latest, id, version) end
redis.call('PUBLISH', channel, change)
return 'OK'
`)

// A probe: what a read would fetch, without fetching it: the field, its
// statuses entry and its length.
const PROBE_OF = `
local function probe(plans, statuses, field)
  return {field, redis.call('HGET', statuses, field) or '', redis.call('HSTRLEN', plans, field)}
end
`

// The probe of the active plan's field, the latest version's or the one given.
// KEYS: plans, statuses, latest, active; ARGV: 'active' | 'latest' | 'field', id or field
const PROBE = new LuaScript(PROBE_OF + `
local plans, statuses, latest, active = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode, arg = ARGV[1], ARGV[2]
local field
if mode == 'active' then
  field = redis.call('GET', active)
elseif mode == 'latest' then
  local v = redis.call('HGET', latest, arg)
  if v then field = arg .. ':' .. v end
else
  field = arg
end
if not field then return false end
return probe(plans, statuses, field)
`)

// The probe of the highest version of plan `id` whose status is `status`: the
// field names (never the documents) of every plan, this id's in descending
// version order, each one's status as the write script reads it.
// KEYS: plans, statuses; ARGV: id, status
const LATEST_WITH = new LuaScript(STATUS_OF + PROBE_OF + `
local plans, statuses = KEYS[1], KEYS[2]
local prefix, wanted = ARGV[1] .. ':', ARGV[2]
local found = {}
for _, field in ipairs(redis.call('HKEYS', plans)) do
  if string.sub(field, 1, #prefix) == prefix then
    local v = tonumber(string.sub(field, #prefix + 1))
    if v then found[#found + 1] = { v, field } end
  end
end
table.sort(found, function (a, b) return a[1] > b[1] end)
for _, entry in ipairs(found) do
  if storedStatus(plans, statuses, entry[2]) == wanted then return probe(plans, statuses, entry[2]) end
end
return false
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
  readonly field: string
  /** its statuses entry, `<status> <bytes> <stamp>`, unique to the write; '' when there is none */
  readonly entry: string
}

type ReadMode = 'active' | 'latest' | 'field'

/** What a probe script answers: the field, its statuses entry ('' when none), the document's length (0 when none) */
type Probe = [field: string, entry: string, bytes: number]

type ScriptArg = string | Buffer

export class RedisPlanStore implements PlanStore {
  readonly #known: Known[] = []
  /** hash `<id>:<version>` -> `<status> <bytes of the stored JSON>` (see STATUS_OF) */
  readonly #statuses: string

  constructor (private readonly client: Redis, private readonly keys: KeyLayout) {
    this.#statuses = keys.plans + ':status'
  }

  async get (id: string, version?: number): Promise<PlanState | undefined> {
    return await guarded(`reading plan ${id} from Redis`, async () =>
      await (version === undefined ? this.#read('latest', id) : this.#read('field', fieldOf(id, version))))
  }

  async latestWith (id: string, status: PlanStatus): Promise<PlanState | undefined> {
    return await guarded(`reading plan ${id}'s latest ${status} version from Redis`, async () => {
      for (let attempt = 1; ; attempt++) {
        const probe = await LATEST_WITH.run(this.client, [this.keys.plans, this.#statuses], [id, status]) as Probe | null
        if (probe === null) return undefined
        const state = await this.#read('field', probe[0], probe)
        // A remembered state is answered as the script found it; a document read after the
        // script may find it changed by another gateway meanwhile: look again.
        if (state?.status === status || attempt === MAX_ATTEMPTS) return state?.status === status ? state : undefined
      }
    })
  }

  async list (): Promise<PlanState[]> {
    const all = await guarded('listing plans in Redis', () => this.client.hgetallBuffer(this.keys.plans))
    return Object.entries(all)
      .map(([field, json]) => this.#state(json, field, null) as PlanState)
      .sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : a.version - b.version)
  }

  async getActive (): Promise<PlanState | undefined> {
    return await guarded('reading the active plan from Redis', async () => await this.#read('active', ''))
  }

  /**
   * A state as a read of `mode` finds it. A probe script answers the field and
   * its statuses entry: when that is the entry of a remembered state (a stamp
   * unique to its write, and the document's length), the state is unchanged and
   * nothing else is read. Otherwise the document is read with its entry (a
   * script would copy 28 MB into Lua first, ~80 ms of Redis time), and again if
   * the active key or the latest version moved in between. `probed`: the
   * probe a caller's script answered already (latestWith's), for the first attempt.
   */
  async #read (mode: ReadMode, arg: string, probed?: Probe): Promise<PlanState | undefined> {
    for (let attempt = 1; ; attempt++) {
      const probe = attempt === 1 && probed !== undefined
        ? probed
        : await PROBE.run(this.client, [this.keys.plans, this.#statuses, this.keys.planLatest, this.keys.planActive], [mode, arg]) as Probe | null
      if (probe === null) return undefined
      const [field, entry, bytes] = probe
      if (bytes === 0) return undefined
      const known = entry === '' ? undefined : this.#known.find(k => k.field === field && k.entry === entry && k.json.length === bytes)
      if (known !== undefined) return known.state
      let batch = this.client.multi().hget(this.#statuses, field).hgetBuffer(this.keys.plans, field)
      if (mode === 'active') batch = batch.get(this.keys.planActive)
      if (mode === 'latest') batch = batch.hget(this.keys.planLatest, arg)
      const results = await batch.exec()
      if (results === null) continue
      for (const [err] of results) if (err !== null) throw err
      const [[, now], [, json], moved] = results as [[null, string | null], [null, Buffer | null], [null, string | null] | undefined]
      const current = moved?.[1]
      if (mode !== 'field' && current !== (mode === 'active' ? field : field.slice(arg.length + 1)) && attempt < MAX_ATTEMPTS) continue
      return this.#state(json, field, now ?? '')
    }
  }

  async create (state: PlanState): Promise<void> {
    await this.#write('create', state, '')
  }

  async update (state: PlanState, expected: PlanStatus): Promise<void> {
    await this.#write('update', state, expected)
  }

  /**
   * The state stored as `json` at `field`: a remembered one when the bytes are
   * the same, else parsed and frozen. Remembered, with its statuses entry,
   * unless `entry` is null (list() reads every plan and remembers none).
   */
  #state (json: unknown, field: string, entry: string | null): PlanState | undefined {
    if (!Buffer.isBuffer(json)) return undefined
    for (const known of this.#known) {
      if (known.json.length === json.length && known.json.equals(json)) {
        if (entry !== null && (known.entry !== entry || known.field !== field)) this.#remember({ ...known, field, entry })
        return known.state
      }
    }
    const state = freezePlanState(JSON.parse(json.toString('utf8')) as PlanState)
    if (entry !== null) this.#remember({ state, json, field, entry })
    return state
  }

  #remember (known: Known): void {
    const at = this.#known.findIndex(k => k.field === known.field)
    if (at >= 0) this.#known.splice(at, 1)
    this.#known.push(known)
    if (this.#known.length > KNOWN) this.#known.shift()
  }

  /** JSON.stringify(state) as bytes, around the grants' bytes of a remembered state that shares them. */
  async #json (state: PlanState): Promise<Buffer> {
    const previous = this.#known.find(known => known.state.grants === state.grants)
    if (previous === undefined) return await planStateJsonInTurns(state)
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
            superseded = freezePlanState(supersedePlan(previous, state.activatedAt ?? new Date().toISOString()))
            prevJson = await this.#json(superseded)
            prevChange = JSON.stringify({ kind: 'plan', id: previous.id, version: previous.version } satisfies StoreChange)
          }
        }
        // Serialised last, so planStateJson() still has it when the caller answers with the state.
        const json = await this.#json(state)
        const stamp = randomBytes(8).toString('hex')
        const prevStamp = randomBytes(8).toString('hex')
        const answer = await WRITE.run(this.client, [this.keys.plans, this.keys.planLatest, this.keys.planActive, this.#statuses], [
          mode, field, json, expected, state.status, prevField, prevJson,
          this.keys.changes, JSON.stringify(change), prevChange, state.id, String(state.version), stamp, prevStamp
        ])
        if (answer === 'OK') {
          if (superseded !== undefined) this.#remember({ state: superseded, json: prevJson as Buffer, field: prevField, entry: `superseded ${(prevJson as Buffer).length} ${prevStamp}` })
          this.#remember({ state, json, field, entry: `${state.status} ${json.length} ${stamp}` })
          return
        }
      }
      throw new GovexError('GOVEX_ERR_CONFLICT', `plan ${state.id} version ${state.version}: other gateways kept activating plans at the same time; retry`)
    })
  }
}
