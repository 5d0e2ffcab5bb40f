// Ways to tamper with a stored audit chain, for the tamper tests every store
// (file, memory, Redis) and the exported file run: each takes the chain's
// stored lines in seq order and returns altered lines, plus the first bad
// record verify must name. Test support only (exported by ./contract.ts).
import { sealLine } from '../audit/chain.js'
import type { CheckpointSign } from '../audit/checkpoint.js'
import type { AuditEntry, AuditRecord, CheckpointAuditEntry } from '../schemas/audit.js'

export interface Tampering {
  name: string
  lines: string[]
  /** what verify must report */
  firstBad: { seq: number, reason: string }
}

type Json = Record<string, unknown>

const parse = (line: string): Json => JSON.parse(line) as Json
const seqOf = (line: string): number => parse(line).seq as number

function indexOfSeq (lines: readonly string[], seq: number): number {
  const i = lines.findIndex(l => seqOf(l) === seq)
  if (i === -1) throw new Error(`no record ${seq} in the lines`)
  return i
}

/** A field changed in place, the hash left as it was. */
export function changeField (lines: readonly string[], seq: number, key: string, value: unknown): Tampering {
  const out = lines.slice()
  const i = indexOfSeq(out, seq)
  const record = parse(out[i] as string)
  record[key] = value
  out[i] = JSON.stringify(record)
  return { name: `changed ${key} of ${seq}`, lines: out, firstBad: { seq, reason: 'changed' } }
}

export function deleteRecord (lines: readonly string[], seq: number): Tampering {
  const out = lines.slice()
  out.splice(indexOfSeq(out, seq), 1)
  return { name: `deleted ${seq}`, lines: out, firstBad: { seq, reason: 'missing' } }
}

/** Two records trade places (`a` before `b` in the chain). */
export function swapRecords (lines: readonly string[], a: number, b: number): Tampering {
  const out = lines.slice()
  const i = indexOfSeq(out, a)
  const j = indexOfSeq(out, b)
  const tmp = out[i] as string
  out[i] = out[j] as string
  out[j] = tmp
  return { name: `swapped ${a} and ${b}`, lines: out, firstBad: { seq: a, reason: 'reordered' } }
}

/** The last `n` records cut off: only a verifier that knows the head can tell. */
export function truncateTail (lines: readonly string[], n: number): Tampering {
  const out = lines.slice(0, lines.length - n)
  return { name: `last ${n} cut off`, lines: out, firstBad: { seq: seqOf(lines[lines.length - n] as string), reason: 'truncated' } }
}

/**
 * The chain rewritten from record `seq` on: that record changed, every later
 * one re-hashed so the chain links again, and every checkpoint re-signed with
 * the forger's key. Only the gateway's public key shows it: the first
 * checkpoint after `seq` is named forged.
 */
export function rewriteFrom (lines: readonly string[], seq: number, key: string, value: unknown, sign: CheckpointSign): Tampering {
  const out = lines.slice()
  const start = indexOfSeq(out, seq)
  let prevHash = parse(out[start] as string).prevHash as string
  let forged: number | undefined
  for (let i = start; i < out.length; i++) {
    const record = parse(out[i] as string) as unknown as AuditRecord
    const { gatewayId, seq: s, ts, prevHash: _p, hash: _h, ...rest } = record as AuditRecord & Json
    let entry = rest as unknown as AuditEntry | CheckpointAuditEntry
    if (i === start) entry = { ...entry, [key]: value } as unknown as AuditEntry
    if (entry.kind === 'checkpoint') {
      const head = { seq: s - 1, hash: prevHash }
      entry = { ...entry, head, ...sign(prevHash) }
      forged ??= s
    }
    const sealed = sealLine(entry, { gatewayId, seq: s, ts, prevHash })
    out[i] = sealed.line
    prevHash = sealed.record.hash
  }
  if (forged === undefined) throw new Error(`no checkpoint after record ${seq}: append more records`)
  return { name: `rewritten from ${seq}, checkpoints re-signed`, lines: out, firstBad: { seq: forged, reason: 'forged-checkpoint' } }
}
