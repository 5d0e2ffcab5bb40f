// The in-memory index the audit logs answer queries from: every record's
// filter fields in listing order, plus per-consumer, per-provider and
// per-resource lists, so a filtered query walks only the narrowest list and
// starts at `from` (or the cursor) by binary search.
import type { AuditFilter } from '../store/types.js'
import { compareRecords, matchesFilter, type AuditKeyFields, type AuditPosition } from './query.js'

const LIST_KEYS = ['consumer', 'provider', 'resource'] as const
type ListKey = typeof LIST_KEYS[number]

/** First index in the sorted `list` whose element is not `before` the probe. */
function lowerBound<E> (list: readonly E[], before: (e: E) => boolean): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (before(list[mid] as E)) lo = mid + 1
    else hi = mid
  }
  return lo
}

function insertSorted<E extends AuditKeyFields> (list: E[], entry: E): void {
  const last = list[list.length - 1]
  // Appends arrive in order; only records of another clock land in the middle.
  if (last === undefined || compareRecords(last, entry) <= 0) list.push(entry)
  else list.splice(lowerBound(list, e => compareRecords(e, entry) <= 0), 0, entry)
}

export interface Selection<E> {
  items: E[]
  /** whether more records match after the last item */
  more: boolean
}

/** What paging needs of an index (this one, or the file log's ColumnIndex). */
export interface Listing<E extends AuditPosition> {
  /** Up to `limit` matching entries after `after`, in listing order. `filter` is normalised. */
  select: (filter: AuditFilter, after: AuditPosition | undefined, limit: number) => Selection<E>
}

export class AuditIndex<E extends AuditKeyFields> {
  private readonly all: E[] = []
  private readonly lists: Record<ListKey, Map<string, E[]>> = {
    consumer: new Map(), provider: new Map(), resource: new Map()
  }

  get size (): number {
    return this.all.length
  }

  add (entry: E): void {
    insertSorted(this.all, entry)
    for (const key of LIST_KEYS) {
      const value = entry[key]
      if (typeof value !== 'string') continue
      const list = this.lists[key].get(value)
      if (list === undefined) this.lists[key].set(value, [entry])
      else insertSorted(list, entry)
    }
  }

  /** Adds many entries, sorting once (opening a log). */
  load (entries: readonly E[]): void {
    for (const entry of entries) {
      this.all.push(entry)
      for (const key of LIST_KEYS) {
        const value = entry[key]
        if (typeof value !== 'string') continue
        const list = this.lists[key].get(value)
        if (list === undefined) this.lists[key].set(value, [entry])
        else list.push(entry)
      }
    }
    this.all.sort(compareRecords)
    for (const key of LIST_KEYS) for (const list of this.lists[key].values()) list.sort(compareRecords)
  }

  /** The narrowest sorted list that holds every record the filter can match. */
  private candidates (filter: AuditFilter): readonly E[] {
    let best: readonly E[] = this.all
    for (const key of LIST_KEYS) {
      const value = filter[key]
      if (value === undefined) continue
      const list = this.lists[key].get(value)
      if (list === undefined) return []
      if (list.length < best.length) best = list
    }
    return best
  }

  /** Every matching entry in listing order (stats: nothing read from disk). `filter` is normalised. */
  * matching (filter: AuditFilter): Generator<E> {
    const list = this.candidates(filter)
    const from = filter.from
    const to = filter.to
    for (let i = from === undefined ? 0 : lowerBound(list, e => e.ts < from); i < list.length; i++) {
      const entry = list[i] as E
      if (to !== undefined && entry.ts >= to) return
      if (matchesFilter(entry, filter)) yield entry
    }
  }

  /** Up to `limit` matching entries after `after`, in listing order. `filter` is normalised. */
  select (filter: AuditFilter, after: AuditPosition | undefined, limit: number): Selection<E> {
    const list = this.candidates(filter)
    let start = 0
    const from = filter.from
    if (from !== undefined) start = lowerBound(list, e => e.ts < from)
    if (after !== undefined) start = Math.max(start, lowerBound(list, e => compareRecords(e, after) <= 0))
    const items: E[] = []
    const to = filter.to
    for (let i = start; i < list.length; i++) {
      const entry = list[i] as E
      if (to !== undefined && entry.ts >= to) break
      if (!matchesFilter(entry, filter)) continue
      if (items.length === limit) return { items, more: true }
      items.push(entry)
    }
    return { items, more: false }
  }
}
