// Checking a block of stored lines on its own, so that blocks can be checked
// side by side (verify-pool.ts) and only stitched in order: the block is
// proven clean — every line a sealed record in the written form or a
// well-formed checkpoint, each chain's records consecutive and linked — and
// summed up per chain as first and last link plus the checkpoints whose
// signatures are left to check. Anything else makes the block unclean, and
// the verifier walks it line by line instead (the exact way that names the
// first bad record): the summary is a shortcut for intact logs, never a
// second opinion.
import type { CheckpointAuditRecord } from '../schemas/audit.js'
import { NEWLINE, COMMA, CLOSE_BRACE, SHA256_PREFIX, DIGEST_LENGTH, LineFields, bytesAre, readLine, releaseBuffer, sha256Hex } from './canonical-line.js'
import { checkpointFault } from './checkpoint.js'
import { readRecordLine } from './verify-record.js'

/** One chain's records in a block. */
export interface ChainRun {
  gatewayId: string
  /** records */
  count: number
  firstSeq: number
  /** prevHash of the first record */
  prevHash: string
  lastSeq: number
  /** hash of the last record */
  hash: string
  /** the checkpoints among them, parsed, in order: their signatures are still to check */
  checkpoints: Array<Partial<CheckpointAuditRecord>>
}

export interface ChunkSummary {
  /** whether every line passed (else `runs` is empty: walk the block line by line) */
  clean: boolean
  /** lines walked, empty ones included */
  lines: number
  runs: ChainRun[]
}


const fields = new LineFields()
const UNCLEAN: ChunkSummary = Object.freeze({ clean: false, lines: 0, runs: [] }) as ChunkSummary


/** Whether the `length` bytes at `x` and at `y` are the same, a word at a time. */
function sameBytes (dv: DataView, x: number, y: number, length: number): boolean {
  let k = 0
  for (; k + 4 <= length; k += 4) if (dv.getUint32(x + k) !== dv.getUint32(y + k)) return false
  for (; k < length; k++) if (dv.getUint8(x + k) !== dv.getUint8(y + k)) return false
  return true
}

/**
 * Checks every line of `b` (whole lines, each ending in a newline). The
 * buffer is briefly written to (and restored), so it must be the caller's own.
 */
export function checkChunk (b: Buffer): ChunkSummary {
  try {
    return walk(b)
  } finally {
    releaseBuffer()
  }
}

/** A run being summed up: where its last record's hash is in the buffer, until the block ends. */
interface OpenRun extends ChainRun {
  hashAt: number
}

function walk (b: Buffer): ChunkSummary {
  const runs: OpenRun[] = []
  let run: OpenRun | undefined
  let lines = 0
  const e = b.length
  const f = fields
  const dv = new DataView(b.buffer, b.byteOffset, b.length)
  for (let s = 0; s < e;) {
    lines++
    if (b[s] === NEWLINE) {
      s++
      continue
    }
    if (readLine(b, s, f) && f.seq !== -1 && f.gatewayId !== -1 && f.prevHash !== -1 && f.kind !== -1 &&
        (bytesAre(b, f.kind, f.kindEnd, 'exchange') || bytesAre(b, f.kind, f.kindEnd, 'admin'))) {
      // the run this line belongs to: most often the last one
      if (run === undefined || !bytesAre(b, f.gatewayId, f.gatewayIdEnd, run.gatewayId)) {
        run = runOf(runs, b.toString('latin1', f.gatewayId, f.gatewayIdEnd))
      }
      if (f.hashEnd - f.hash !== DIGEST_LENGTH || !bytesAre(b, f.hash, f.hash + SHA256_PREFIX.length, SHA256_PREFIX)) return UNCLEAN
      if (run.count > 0) {
        // linked to the record before: compared in place while that one's hash is in this buffer
        if (f.seq !== run.lastSeq + 1 || f.prevHashEnd - f.prevHash !== DIGEST_LENGTH) return UNCLEAN
        if (run.hashAt >= 0 ? !sameBytes(dv, f.prevHash, run.hashAt, DIGEST_LENGTH) : !bytesAre(b, f.prevHash, f.prevHashEnd, run.hash)) return UNCLEAN
      } else {
        run.firstSeq = f.seq
        run.prevHash = b.toString('latin1', f.prevHash, f.prevHashEnd)
      }
      b[f.bodyEnd] = CLOSE_BRACE
      const hex = sha256Hex(new Uint8Array(b.buffer, b.byteOffset + s, f.bodyEnd + 1 - s))
      b[f.bodyEnd] = COMMA
      if (b.toString('latin1', f.hash + SHA256_PREFIX.length, f.hashEnd) !== hex) return UNCLEAN
      run.count++
      run.lastSeq = f.seq
      run.hashAt = f.hash
      s = f.end + 1
      continue
    }
    // not in the written form: only a checkpoint, checked by the definition, keeps the block clean
    let nl = b.indexOf(NEWLINE, s)
    if (nl === -1) nl = e
    const { record, sealed } = readRecordLine(b.toString('utf8', s, nl))
    if (record === undefined || !sealed || record.kind !== 'checkpoint' || typeof record.gatewayId !== 'string' ||
        typeof record.seq !== 'number' || typeof record.prevHash !== 'string' || typeof record.hash !== 'string' ||
        checkpointFault(record, undefined) !== null) return UNCLEAN
    run = runOf(runs, record.gatewayId)
    if (run.count > 0) {
      if (record.seq !== run.lastSeq + 1 || record.prevHash !== hashOf(b, run)) return UNCLEAN
    } else {
      run.firstSeq = record.seq
      run.prevHash = record.prevHash
    }
    run.count++
    run.lastSeq = record.seq
    run.hash = record.hash
    run.hashAt = -1
    run.checkpoints.push(record as Partial<CheckpointAuditRecord>)
    s = nl + 1
  }
  return {
    clean: true,
    lines,
    runs: runs.map(r => ({ gatewayId: r.gatewayId, count: r.count, firstSeq: r.firstSeq, prevHash: r.prevHash, lastSeq: r.lastSeq, hash: hashOf(b, r), checkpoints: r.checkpoints }))
  }
}

function hashOf (b: Buffer, run: OpenRun): string {
  return run.hashAt >= 0 ? b.toString('latin1', run.hashAt, run.hashAt + DIGEST_LENGTH) : run.hash
}

function runOf (runs: OpenRun[], gatewayId: string): OpenRun {
  for (const run of runs) if (run.gatewayId === gatewayId) return run
  const run: OpenRun = { gatewayId, count: 0, firstSeq: 0, prevHash: '', lastSeq: 0, hash: '', hashAt: -1, checkpoints: [] }
  runs.push(run)
  return run
}
