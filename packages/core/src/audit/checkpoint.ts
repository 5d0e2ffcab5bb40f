// Signed checkpoints in a gateway's chain (PROTOCOL.md "Audit"): every N seqs
// the log appends a record carrying the gateway's Ed25519 signature over the
// hash of the record before it. A hash chain alone can be rewritten end to end
// by anyone with write access; a checkpoint cannot be re-made without the
// gateway's private key, so everything up to it is proven by its public key.
import type { KeyObject } from 'node:crypto'
import { GovexError } from '../codes.js'
import { parseDetached, signDetached, verifyDetached } from '../jws.js'
import { privateKeyFromJwk, publicKeyFromJwk } from '../keys.js'
import type { Member, PrivateJwk } from '../schemas/member.js'
import type { AuditRecord, CheckpointAuditEntry } from '../schemas/audit.js'
import { sealLine, type SealedRecord } from './chain.js'
import type { ChainHead, CheckpointKeys } from '../store/types.js'

/** Signs a head hash: the detached JWS and the kid of the key that made it. */
export type CheckpointSign = (headHash: string) => { kid: string, signature: string }

export interface CheckpointOptions {
  /** a checkpoint follows every record whose seq is a multiple of this */
  every: number
  sign: CheckpointSign
}

/**
 * The default of config `audit.checkpointEvery`: off. PROTOCOL.md v1 knows the
 * record kinds `exchange` and `admin` only, so a checkpoint record is an
 * operator's choice (1000 is a good spacing), not a default.
 */
export const DEFAULT_CHECKPOINT_EVERY = 0

/** Checks the options eagerly; undefined stays undefined (no checkpoints). */
export function checkCheckpointOptions (options: CheckpointOptions | undefined): CheckpointOptions | undefined {
  if (options === undefined) return undefined
  if (!Number.isInteger(options.every) || options.every < 1) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `audit checkpoint spacing must be a positive integer (records between checkpoints), got ${String(options.every)}`)
  }
  if (typeof options.sign !== 'function') {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', 'audit checkpoints need a `sign` function (checkpointSigner(the gateway\'s private JWK))')
  }
  return options
}

/** Signs with a private JWK (the gateway's `keyFile`). */
export function checkpointSigner (privateJwk: PrivateJwk): CheckpointSign {
  // a key that does not parse fails here, at start, not at the 1000th record
  privateKeyFromJwk(privateJwk)
  return headHash => ({ kid: privateJwk.kid, signature: signDetached(headHash, privateJwk) })
}

/** Whether the record just sealed at `seq` is followed by a checkpoint. */
export function checkpointDue (seq: number, options: CheckpointOptions | undefined): options is CheckpointOptions {
  return options !== undefined && seq % options.every === 0
}

/** The checkpoint entry over `head` (the record just sealed). */
export function checkpointEntry (gatewayId: string, head: ChainHead, options: CheckpointOptions): CheckpointAuditEntry {
  const { kid, signature } = options.sign(head.hash)
  return { kind: 'checkpoint', id: `checkpoint:${gatewayId}:${head.seq}`, head: { seq: head.seq, hash: head.hash }, kid, signature }
}

/**
 * The checkpoint that follows `record` when one is due (sealed at the next
 * seq, same ts), else undefined. Logs call it right after sealing each record,
 * so the checkpoint lands in the same batch as the record it signs.
 */
export function checkpointAfter (record: AuditRecord, options: CheckpointOptions | undefined): SealedRecord | undefined {
  if (!checkpointDue(record.seq, options)) return undefined
  const entry = checkpointEntry(record.gatewayId, { seq: record.seq, hash: record.hash }, options)
  return sealLine(entry, { gatewayId: record.gatewayId, seq: record.seq + 1, ts: record.ts, prevHash: record.hash })
}

/**
 * Why a checkpoint does not hold, or null when it does. `record` is sealed
 * (its hash checked) and sits at its place; `key` is the gateway's key for its
 * kid (undefined: not checked, null: the gateway has no such key).
 */
export function checkpointFault (record: { seq?: unknown, prevHash?: unknown, head?: unknown, signature?: unknown }, key: KeyObject | null | undefined): 'forged-checkpoint' | null {
  const head = record.head as { seq?: unknown, hash?: unknown } | null | undefined
  if (typeof head !== 'object' || head === null || typeof head.hash !== 'string' || head.hash !== record.prevHash || typeof record.seq !== 'number' || head.seq !== record.seq - 1) {
    return 'forged-checkpoint'
  }
  if (key === undefined) return null
  if (key === null || typeof record.signature !== 'string') return 'forged-checkpoint'
  const jws = parseDetached(record.signature)
  if (!jws.ok || !verifyDetached(jws.jws, head.hash, key)) return 'forged-checkpoint'
  return null
}

/**
 * Checkpoint keys from the member registry: a checkpoint of gateway G must be
 * signed by one of member G's keys. Gateways that are not members are unknown
 * (their checkpoints are not checked).
 */
export function checkpointKeysOf (members: Iterable<Member>): CheckpointKeys {
  const byGateway = new Map<string, Map<string, KeyObject>>()
  for (const member of members) {
    const keys = new Map<string, KeyObject>()
    for (const jwk of member.keys) {
      try {
        keys.set(jwk.kid, publicKeyFromJwk(jwk))
      } catch {
        // a key that does not parse signs nothing; it stays out of the map
      }
    }
    byGateway.set(member.id, keys)
  }
  return (gatewayId, kid) => {
    const keys = byGateway.get(gatewayId)
    if (keys === undefined) return undefined
    return keys.get(kid) ?? null
  }
}
