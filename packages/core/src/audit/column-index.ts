// The file log's in-memory index in columns: per record a few numbers in
// typed arrays (timestamp, seq, where its line is, and an id per filter field
// from one dictionary of the strings seen), instead of an object per record
// with its strings. Heap and typed arrays take ~180 B a record
// (bench/audit-append) instead of several hundred, and the index is filled
// from the lines' bytes (canonical-line.ts) without parsing them. Queries answer as AuditIndex does: the narrowest of
// the per-consumer, per-provider and per-resource lists, binary search on the
// instant, then the other filters compared as ids.
import type { AuditFilter } from '../store/types.js'
import { ESCAPED, type LineFields } from './canonical-line.js'
import type { AuditKeyFields, AuditPosition } from './query.js'
import type { Selection } from './record-index.js'
import type { StatsFields } from './stats.js'

/** What the index keeps of a record, as strings (a record appended, or a line parsed the slow way). */
export interface RowFields extends AuditKeyFields {
  latencyMs: number | null
}

/** rowFieldsOf() of the line buf[from, to), parsed the slow way; undefined when it is not a listable record. */
export function rowFieldsOfLine (buf: Buffer, from: number, to: number): RowFields | undefined {
  let record: unknown
  try {
    record = JSON.parse(buf.toString('utf8', from, to))
  } catch {
    return undefined
  }
  return typeof record === 'object' && record !== null ? rowFieldsOf(record as Record<string, unknown>) : undefined
}

/** What the index keeps of a parsed record, or undefined when it lists nothing of it (no ts, gatewayId or seq). */
export function rowFieldsOf (r: Record<string, unknown>): RowFields | undefined {
  if (typeof r.ts !== 'string' || typeof r.gatewayId !== 'string' || typeof r.seq !== 'number') return undefined
  const str = (v: unknown): string | null => typeof v === 'string' ? v : null
  return {
    ts: r.ts,
    gatewayId: r.gatewayId,
    seq: r.seq,
    kind: String(r.kind),
    outcome: str(r.outcome) ?? undefined,
    code: str(r.code),
    latencyMs: typeof r.latencyMs === 'number' ? r.latencyMs : null,
    consumer: str(r.consumer),
    provider: str(r.provider),
    resource: str(r.resource),
    grantId: str(r.grantId),
    userId: str(r.userId),
    caseRef: str(r.caseRef)
  }
}

/** What a query gives back of a row: where its record is, and its place in the listing order. */
export interface IndexedRow extends AuditPosition {
  kind: string
  /** the chain file's number, as the log numbered its files */
  file: number
  offset: number
  bytes: number
}

/** Id of null, of an absent member and of a member of another type than string. */
const NONE = 0

/**
 * Strings interned by their UTF-8 bytes: a line's values are looked up
 * without making a string of them. Id 0 is none; strings are made on demand.
 */
export class ByteDictionary {
  private arena = Buffer.allocUnsafe(1 << 16)
  private used = 0
  private from = new Int32Array(256)
  private length = new Int32Array(256)
  private table = new Int32Array(512)
  private strings: Array<string | null> = [null]
  private readonly byString = new Map<string, number>()
  /** ids given so far, none included */
  count = 1

  private hash (buf: Uint8Array, from: number, to: number): number {
    // four bytes a step (FNV-style mixing of little-endian words), then the rest one by one
    let h = 0x811c9dc5 ^ (to - from)
    let k = from
    for (; k + 4 <= to; k += 4) {
      const word = (buf[k] as number) | ((buf[k + 1] as number) << 8) | ((buf[k + 2] as number) << 16) | ((buf[k + 3] as number) << 24)
      h = Math.imul(h ^ word, 0x01000193)
      h ^= h >>> 15
    }
    for (; k < to; k++) h = Math.imul(h ^ (buf[k] as number), 0x01000193)
    return (h ^ (h >>> 13)) >>> 0
  }

  private slotOf (buf: Uint8Array, from: number, to: number, h: number): number {
    const mask = this.table.length - 1
    const length = to - from
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.table[slot] as number
      if (id === NONE) return slot
      if (this.length[id] === length) {
        const at = this.from[id] as number
        let k = 0
        while (k < length && this.arena[at + k] === buf[from + k]) k++
        if (k === length) return slot
      }
    }
  }

  /** The id of the string whose UTF-8 bytes are buf[from, to), made if new. */
  idOfBytes (buf: Uint8Array, from: number, to: number): number {
    const h = this.hash(buf, from, to)
    const slot = this.slotOf(buf, from, to, h)
    const known = this.table[slot] as number
    if (known !== NONE) return known
    const length = to - from
    if (this.used + length > this.arena.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.used + length))
      this.arena.copy(grown, 0, 0, this.used)
      this.arena = grown
    }
    this.arena.set(buf.subarray(from, to), this.used)
    const id = this.count++
    if (id === this.from.length) {
      this.from = grow(this.from, id * 2)
      this.length = grow(this.length, id * 2)
    }
    this.from[id] = this.used
    this.length[id] = length
    this.used += length
    this.table[slot] = id
    if (this.count * 2 > this.table.length) this.rehash()
    return id
  }

  private rehash (): void {
    this.table = new Int32Array(this.table.length * 2)
    const mask = this.table.length - 1
    for (let id = 1; id < this.count; id++) {
      const at = this.from[id] as number
      let slot = this.hash(this.arena, at, at + (this.length[id] as number)) & mask
      while (this.table[slot] !== NONE) slot = (slot + 1) & mask
      this.table[slot] = id
    }
  }

  /** The id of a string, made if new; null is none. */
  idOf (value: string | null | undefined): number {
    if (typeof value !== 'string') return NONE
    let id = this.byString.get(value)
    if (id === undefined) {
      const bytes = Buffer.from(value, 'utf8')
      id = this.idOfBytes(bytes, 0, bytes.length)
      this.byString.set(value, id)
    }
    return id
  }

  /** The id of a string if it was ever seen, else -1 (a filter on it matches nothing). */
  find (value: string): number {
    const known = this.byString.get(value)
    if (known !== undefined) return known
    const bytes = Buffer.from(value, 'utf8')
    const id = this.table[this.slotOf(bytes, 0, bytes.length, this.hash(bytes, 0, bytes.length))] as number
    return id === NONE ? -1 : id
  }

  string (id: number): string | null {
    if (id === NONE) return null
    let s = this.strings[id]
    if (s === undefined || s === null) {
      const at = this.from[id] as number
      s = this.arena.toString('utf8', at, at + (this.length[id] as number))
      this.strings[id] = s
    }
    return s
  }
}

type Typed = Int32Array | Uint32Array | Uint16Array | Float64Array
function grow<T extends Typed> (array: T, size: number): T {
  const grown = new (array.constructor as new (n: number) => T)(size)
  grown.set(array)
  return grown
}

/** A column of ids: two bytes a row until an id needs four. */
class IdColumn {
  private data: Uint16Array | Uint32Array = new Uint16Array(1024)
  get (row: number): number {
    return this.data[row] as number
  }

  set (row: number, id: number): void {
    if (row >= this.data.length) this.data = grow(this.data, Math.max(row + 1, this.data.length * 2))
    if (id > 0xffff && this.data instanceof Uint16Array) this.data = Uint32Array.from(this.data)
    this.data[row] = id
  }
}

/** A growable list of rows, kept in listing order. */
class RowList {
  rows = new Uint32Array(16)
  size = 0
  push (row: number): void {
    if (this.size === this.rows.length) this.rows = grow(this.rows, this.size * 2)
    this.rows[this.size++] = row
  }

  insert (at: number, row: number): void {
    if (this.size === this.rows.length) this.rows = grow(this.rows, this.size * 2)
    this.rows.copyWithin(at + 1, at, this.size)
    this.rows[at] = row
    this.size++
  }
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/**
 * ms of an instant written as toISOString writes years 1000 to 9999, else
 * NaN: then the text is kept and compared as text (the order of listings is
 * that of the strings, and for these forms the numbers sort the same).
 */
export function instantMs (text: string): number {
  if (text.length !== 24 || !ISO.test(text)) return Number.NaN
  const ms = Date.parse(text)
  return ms >= YEAR_1000 && ms < YEAR_10000 && new Date(ms).toISOString() === text ? ms : Number.NaN
}

const YEAR_1000 = Date.UTC(1000, 0, 1)
const YEAR_10000 = Date.UTC(10000, 0, 1)
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function digits (buf: Uint8Array, at: number, n: number): number {
  let v = 0
  for (let k = at; k < at + n; k++) {
    const d = (buf[k] as number) - 48
    if (d < 0 || d > 9) return -1
    v = v * 10 + d
  }
  return v
}

/** instantMs of the bytes buf[from, to), without making a string (NaN: use the text). */
function instantMsOfBytes (buf: Uint8Array, from: number, to: number): number {
  if (to - from !== 24 || buf[from + 4] !== 45 || buf[from + 7] !== 45 || buf[from + 10] !== 84 || buf[from + 13] !== 58 ||
      buf[from + 16] !== 58 || buf[from + 19] !== 46 || buf[from + 23] !== 90) return Number.NaN
  const year = digits(buf, from, 4)
  const month = digits(buf, from + 5, 2)
  const day = digits(buf, from + 8, 2)
  const hour = digits(buf, from + 11, 2)
  const minute = digits(buf, from + 14, 2)
  const second = digits(buf, from + 17, 2)
  const milli = digits(buf, from + 20, 3)
  if (year < 1000 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || milli < 0) return Number.NaN
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (day > (month === 2 && leap ? 29 : DAYS[month - 1] as number)) return Number.NaN
  return Date.UTC(year, month - 1, day, hour, minute, second, milli)
}

/** A canonical number's value from its text (canonical-line.ts checked its form). */
function numberOfBytes (buf: Buffer, from: number, to: number): number {
  // up to 15 digits with no exponent: an exact integer divided by an exact power of ten, one rounding, as parsing does
  let n = 0
  let scale = 1
  let fraction = false
  let count = 0
  const negative = buf[from] === 45
  for (let k = negative ? from + 1 : from; k < to; k++) {
    const c = buf[k] as number
    if (c === 46) {
      fraction = true
      continue
    }
    if (c < 48 || c > 57 || ++count > 15) return Number(buf.toString('latin1', from, to))
    n = n * 10 + (c - 48)
    if (fraction) scale *= 10
  }
  const value = n / scale
  return negative ? -value : value
}

/** Where a position sorts: its instant as a number when it has the usual form, else its text. */
interface TsKey {
  ms: number
  text: string
}

function tsKey (text: string): TsKey {
  return { ms: instantMs(text), text }
}

const FILTER_IDS = ['consumer', 'provider', 'resource', 'outcome', 'kind', 'userId', 'caseRef', 'grantId', 'code', 'gatewayId'] as const
type FilterKey = typeof FILTER_IDS[number]

export class ColumnIndex {
  private readonly dict = new ByteDictionary()
  private rows = 0
  private ts = new Float64Array(1024)
  /** the text of instants not in the usual form (ts NaN) */
  private readonly oddTs = new Map<number, string>()
  private seq = new Float64Array(1024)
  private offset = new Float64Array(1024)
  private bytes = new Uint32Array(1024)
  private file = new Uint16Array(1024)
  private latency = new Float64Array(1024)
  private readonly ids: Record<FilterKey, IdColumn> = {
    consumer: new IdColumn(), provider: new IdColumn(), resource: new IdColumn(), outcome: new IdColumn(), kind: new IdColumn(),
    userId: new IdColumn(), caseRef: new IdColumn(), grantId: new IdColumn(), code: new IdColumn(), gatewayId: new IdColumn()
  }

  /** rows in listing order; null while that is the order they were added in */
  private order: RowList | null = null
  /** whether rows were added in listing order so far (before finish) */
  private sorted = true
  private finished = false
  private readonly lists: Record<'consumer' | 'provider' | 'resource', Map<number, RowList>> = { consumer: new Map(), provider: new Map(), resource: new Map() }

  get size (): number {
    return this.rows
  }

  private room (): void {
    if (this.rows < this.ts.length) return
    const size = this.ts.length * 2
    this.ts = grow(this.ts, size)
    this.seq = grow(this.seq, size)
    this.offset = grow(this.offset, size)
    this.bytes = grow(this.bytes, size)
    this.file = grow(this.file, size)
    this.latency = grow(this.latency, size)
  }

  /**
   * Adds the record of a line readLine took (its members at the places in
   * `f`). false when the line is not one the index keeps (no ts, gatewayId
   * or seq) or holds a value to read the slow way: parse it then (addFields).
   */
  addLine (buf: Buffer, f: LineFields, file: number, offset: number, bytes: number): boolean {
    if (f.ts === -1 || f.gatewayId === -1 || f.seq === -1) return false
    const row = this.rows
    this.room()
    const ms = instantMsOfBytes(buf, f.ts, f.tsEnd)
    this.ts[row] = ms
    if (Number.isNaN(ms)) this.oddTs.set(row, buf.toString('latin1', f.ts, f.tsEnd))
    this.seq[row] = f.seq
    this.file[row] = file
    this.offset[row] = offset
    this.bytes[row] = bytes
    this.latency[row] = f.latencyMs === -1 ? Number.NaN : numberOfBytes(buf, f.latencyMs, f.latencyMsEnd)
    const ids = this.ids
    const dict = this.dict
    ids.gatewayId.set(row, dict.idOfBytes(buf, f.gatewayId, f.gatewayIdEnd))
    // a record without kind is indexed under "undefined", as String(record.kind) gives
    ids.kind.set(row, f.kind === -1 ? dict.idOf('undefined') : dict.idOfBytes(buf, f.kind, f.kindEnd))
    ids.consumer.set(row, this.value(buf, f.consumer, f.consumerEnd, f.escaped, ESCAPED.consumer))
    ids.provider.set(row, this.value(buf, f.provider, f.providerEnd, f.escaped, ESCAPED.provider))
    ids.resource.set(row, this.value(buf, f.resource, f.resourceEnd, f.escaped, ESCAPED.resource))
    ids.outcome.set(row, this.value(buf, f.outcome, f.outcomeEnd, f.escaped, ESCAPED.outcome))
    ids.code.set(row, this.value(buf, f.code, f.codeEnd, f.escaped, ESCAPED.code))
    ids.grantId.set(row, this.value(buf, f.grantId, f.grantIdEnd, f.escaped, ESCAPED.grantId))
    ids.userId.set(row, this.value(buf, f.userId, f.userIdEnd, f.escaped, ESCAPED.userId))
    ids.caseRef.set(row, this.value(buf, f.caseRef, f.caseRefEnd, f.escaped, ESCAPED.caseRef))
    this.added(row)
    return true
  }

  private value (buf: Buffer, from: number, to: number, escaped: number, bit: number): number {
    if (from === -1) return NONE
    // an escape or a non-ASCII byte: the string is what JSON makes of it
    if ((escaped & bit) !== 0) return this.dict.idOf(JSON.parse(buf.toString('utf8', from - 1, to + 1)) as string)
    return this.dict.idOfBytes(buf, from, to)
  }

  /** Adds a record from its fields (a record appended, or a line parsed the slow way). */
  addFields (r: RowFields, file: number, offset: number, bytes: number): void {
    const row = this.rows
    this.room()
    const ms = instantMs(r.ts)
    this.ts[row] = ms
    if (Number.isNaN(ms)) this.oddTs.set(row, r.ts)
    this.seq[row] = r.seq
    this.file[row] = file
    this.offset[row] = offset
    this.bytes[row] = bytes
    this.latency[row] = typeof r.latencyMs === 'number' ? r.latencyMs : Number.NaN
    for (const key of FILTER_IDS) this.ids[key].set(row, this.dict.idOf(r[key]))
    this.added(row)
  }

  private added (row: number): void {
    this.rows++
    if (!this.finished) {
      if (row > 0 && this.sorted && this.compareRows(row - 1, row) > 0) this.sorted = false
      return
    }
    // appended after the build: in place in the order and in its lists
    const order = this.order
    const last = order === null ? row - 1 : order.rows[order.size - 1] as number
    if (order === null && (row === 0 || this.compareRows(last, row) <= 0)) {
      // still in the order added: nothing to move
    } else {
      const list = order ?? this.identity(row)
      this.place(list, row)
    }
    for (const key of LIST_KEYS) {
      const list = this.listOf(key, row)
      if (list !== undefined) this.place(list, row)
    }
  }

  /** The row list of the row's value under `key` (made when first needed); undefined when the row has none. */
  private listOf (key: typeof LIST_KEYS[number], row: number): RowList | undefined {
    const id = this.ids[key].get(row)
    if (id === NONE) return undefined
    let list = this.lists[key].get(id)
    if (list === undefined) {
      list = new RowList()
      this.lists[key].set(id, list)
    }
    return list
  }

  /** The order as a list of every row before `row` (it was the order they were added in). */
  private identity (row: number): RowList {
    const list = new RowList()
    list.rows = new Uint32Array(Math.max(16, row * 2))
    for (let r = 0; r < row; r++) list.rows[r] = r
    list.size = row
    this.order = list
    return list
  }

  private place (list: RowList, row: number): void {
    // appends arrive in order; only records of another clock land in the middle
    if (list.size === 0 || this.compareRows(list.rows[list.size - 1] as number, row) <= 0) list.push(row)
    else list.insert(this.lowerBound(list, 0, r => this.compareRows(r, row) <= 0), row)
  }

  /** After the rows of a build: the listing order and the per-value lists. */
  finish (): void {
    if (!this.sorted) {
      const rows = new Uint32Array(this.rows)
      for (let r = 0; r < this.rows; r++) rows[r] = r
      // the rows come in runs, one sorted run per chain file: TimSort merges them
      rows.sort((a, b) => this.compareRows(a, b))
      const list = new RowList()
      list.rows = rows
      list.size = rows.length
      this.order = list
    }
    for (let i = 0; i < this.rows; i++) {
      const row = this.rowAt(i)
      for (const key of LIST_KEYS) this.listOf(key, row)?.push(row)
    }
    this.finished = true
  }

  private rowAt (i: number): number {
    return this.order === null ? i : this.order.rows[i] as number
  }

  private tsText (row: number): string {
    const ms = this.ts[row] as number
    return Number.isNaN(ms) ? this.oddTs.get(row) as string : new Date(ms).toISOString()
  }

  /** Listing order: (ts, gatewayId, seq). */
  private compareRows (a: number, b: number): number {
    const ta = this.ts[a] as number
    const tb = this.ts[b] as number
    if (ta !== tb) {
      if (!Number.isNaN(ta) && !Number.isNaN(tb)) return ta < tb ? -1 : 1
      const sa = this.tsText(a)
      const sb = this.tsText(b)
      if (sa !== sb) return sa < sb ? -1 : 1
    }
    const ga = this.ids.gatewayId.get(a)
    const gb = this.ids.gatewayId.get(b)
    if (ga !== gb) return (this.dict.string(ga) as string) < (this.dict.string(gb) as string) ? -1 : 1
    return (this.seq[a] as number) - (this.seq[b] as number)
  }

  /** Whether a row sorts before the instant `key` (a filter's `from`). */
  private beforeInstant (row: number, key: TsKey): boolean {
    const ms = this.ts[row] as number
    if (!Number.isNaN(ms) && !Number.isNaN(key.ms)) return ms < key.ms
    return this.tsText(row) < key.text
  }

  /** compareRecords(row, position) */
  private compareToPosition (row: number, key: TsKey, position: AuditPosition): number {
    const ms = this.ts[row] as number
    if (!Number.isNaN(ms) && !Number.isNaN(key.ms)) {
      if (ms !== key.ms) return ms < key.ms ? -1 : 1
    } else {
      const text = this.tsText(row)
      if (text !== key.text) return text < key.text ? -1 : 1
    }
    const gatewayId = this.dict.string(this.ids.gatewayId.get(row)) as string
    if (gatewayId !== position.gatewayId) return gatewayId < position.gatewayId ? -1 : 1
    return (this.seq[row] as number) - position.seq
  }

  /** First index in [from, list) whose row is not `before`. */
  private lowerBound (list: RowList | null, from: number, before: (row: number) => boolean): number {
    let lo = from
    let hi = list === null ? this.rows : list.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (before(list === null ? mid : list.rows[mid] as number)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * The filter as ids, and the narrowest list that holds every record it can
   * match (null: every row, in `order`); undefined when a value was never seen.
   */
  private plan (filter: AuditFilter): { ids: Array<[IdColumn, number]>, list: RowList | null, size: number } | undefined {
    const ids: Array<[IdColumn, number]> = []
    for (const key of FILTER_IDS) {
      const value = filter[key]
      if (value === undefined) continue
      const id = this.dict.find(value)
      if (id === -1) return undefined
      ids.push([this.ids[key], id])
    }
    let list = this.order
    let size = this.rows
    for (const key of LIST_KEYS) {
      const value = filter[key]
      if (value === undefined) continue
      const narrower = this.lists[key].get(this.dict.find(value))
      if (narrower === undefined) return undefined
      if (narrower.size < size) {
        list = narrower
        size = narrower.size
      }
    }
    return { ids, list, size }
  }

  private matches (row: number, ids: ReadonlyArray<[IdColumn, number]>): boolean {
    for (const [column, id] of ids) if (column.get(row) !== id) return false
    return true
  }

  /** Up to `limit` matching rows after `after`, in listing order. `filter` is normalised. */
  select (filter: AuditFilter, after: AuditPosition | undefined, limit: number): Selection<IndexedRow> {
    const items: IndexedRow[] = []
    const plan = this.plan(filter)
    if (plan === undefined) return { items, more: false }
    const { ids, list, size } = plan
    let start = 0
    if (filter.from !== undefined) {
      const from = tsKey(filter.from)
      start = this.lowerBound(list, 0, row => this.beforeInstant(row, from))
    }
    if (after !== undefined) {
      const key = tsKey(after.ts)
      start = Math.max(start, this.lowerBound(list, 0, row => this.compareToPosition(row, key, after) <= 0))
    }
    const to = filter.to === undefined ? undefined : tsKey(filter.to)
    for (let i = start; i < size; i++) {
      const row = list === null ? i : list.rows[i] as number
      if (to !== undefined && !this.beforeInstant(row, to)) break
      if (!this.matches(row, ids)) continue
      if (items.length === limit) return { items, more: true }
      items.push({
        ts: this.tsText(row),
        gatewayId: this.dict.string(this.ids.gatewayId.get(row)) as string,
        seq: this.seq[row] as number,
        kind: this.dict.string(this.ids.kind.get(row)) as string,
        file: this.file[row] as number,
        offset: this.offset[row] as number,
        bytes: this.bytes[row] as number
      })
    }
    return { items, more: false }
  }

  /**
   * What stats read of every matching row, in listing order. One object is
   * reused for every row: read it before taking the next. `filter` is normalised.
   */
  * matching (filter: AuditFilter): Generator<StatsFields> {
    const plan = this.plan(filter)
    if (plan === undefined) return
    const { ids, list, size } = plan
    const start = filter.from === undefined ? 0 : this.lowerBound(list, 0, row => this.beforeInstant(row, tsKey(filter.from as string)))
    const to = filter.to === undefined ? undefined : tsKey(filter.to)
    const view: StatsFields = { kind: '', outcome: undefined, consumer: null, provider: null, resource: null, latencyMs: null }
    const dict = this.dict
    for (let i = start; i < size; i++) {
      const row = list === null ? i : list.rows[i] as number
      if (to !== undefined && !this.beforeInstant(row, to)) return
      if (!this.matches(row, ids)) continue
      view.kind = dict.string(this.ids.kind.get(row)) as string
      view.outcome = dict.string(this.ids.outcome.get(row)) ?? undefined
      view.consumer = dict.string(this.ids.consumer.get(row))
      view.provider = dict.string(this.ids.provider.get(row))
      view.resource = dict.string(this.ids.resource.get(row))
      const latency = this.latency[row] as number
      view.latencyMs = Number.isNaN(latency) ? null : latency
      yield view
    }
  }
}

const LIST_KEYS = ['consumer', 'provider', 'resource'] as const
