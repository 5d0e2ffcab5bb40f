// Opening every store a gateway uses at once: in memory (tests, demos) or in a
// data folder of JSON documents and a JSONL audit log (the embedded default,
// ARCHITECTURE.md "Storage"). One process owns the folder (file/folder-lock.ts:
// a second opener is refused until the first closes or dies); its replay guard
// and quotas live in that process's memory.
import { stat } from 'node:fs/promises'
import { GovexError } from '../codes.js'
import { isMemberId } from '../ids.js'
import type { StoreChange, Stores } from './types.js'
import { MemoryMemberRegistry } from './memory/members.js'
import { MemoryDirectoryStore } from './memory/directories.js'
import { MemoryDisclosureStore } from './memory/disclosures.js'
import { MemoryPlanStore } from './memory/plans.js'
import { MemoryReplayGuard } from './memory/replay.js'
import { MemoryQuotaCounter } from './memory/quota.js'
import { MemoryAuditLog } from './memory/audit-log.js'
import { restoreExchangeGuards } from './memory/restore.js'
import { admitInMemory } from './memory/admit.js'
import { FileMemberRegistry } from './file/members.js'
import { FileDirectoryStore } from './file/directories.js'
import { FileDisclosureStore } from './file/disclosures.js'
import { FilePlanStore } from './file/plans.js'
import { FileAuditLog } from './file/audit-log.js'
import { ensureFolder, folderProblem } from './file/atomic.js'
import { lockFolder } from './file/folder-lock.js'
import type { CheckpointOptions } from '../audit/checkpoint.js'

/** PROTOCOL.md: an envelope id is refused as a replay within 24 h unless configured otherwise. */
export const DEFAULT_REPLAY_WINDOW_S = 86_400

export interface MemoryStoresOptions {
  gatewayId: string
  /** append a signed checkpoint to the audit chain every `every` records */
  checkpoint?: CheckpointOptions | undefined
}

export interface FileStoresOptions {
  /** the data folder; created when missing */
  dir: string
  gatewayId: string
  /** most audit records per fsync batch */
  maxBatch?: number | undefined
  /** append a signed checkpoint to the audit chain every `every` records */
  checkpoint?: CheckpointOptions | undefined
  /**
   * the replay window in seconds (limits.replayWindowS, default 86 400): the
   * envelope ids and quota counts of this window are read back from the audit
   * log at open, so a restart forgets neither
   */
  replayWindowS?: number | undefined
  /** the clock in ms (tests) */
  now?: (() => number) | undefined
}

export async function openMemoryStores (options: MemoryStoresOptions): Promise<Stores> {
  checkGatewayId(options.gatewayId)
  const changes = new Changes()
  const onChange = changes.emit
  return assemble({
    members: new MemoryMemberRegistry({ onChange }),
    directories: new MemoryDirectoryStore({ onChange }),
    disclosures: new MemoryDisclosureStore({ onChange }),
    plans: new MemoryPlanStore({ onChange }),
    audit: new MemoryAuditLog({ gatewayId: options.gatewayId, checkpoint: options.checkpoint })
  }, changes, async () => {}, async () => {})
}

export async function openFileStores (options: FileStoresOptions): Promise<Stores> {
  checkGatewayId(options.gatewayId)
  const { dir } = options
  if (typeof dir !== 'string' || dir === '') throw new GovexError('GOVEX_ERR_BAD_REQUEST', 'store.dir is missing; set it to the data folder')
  try {
    await ensureFolder(dir)
  } catch (err) {
    throw new GovexError('GOVEX_ERR_BAD_REQUEST', `store.dir ${dir} cannot be created (${folderProblem(err)}); set store.dir to a folder this process can write`, { cause: err })
  }
  // before anything is read or cleaned: opening the documents removes the temp
  // files a crash left, which beside another writer could be the one it writes
  const lock = await lockFolder(dir)
  const changes = new Changes()
  const onChange = changes.emit
  let audit: FileAuditLog | undefined
  let parts: Parts
  try {
    const documents = {
      members: await FileMemberRegistry.open({ dir, onChange }),
      directories: await FileDirectoryStore.open({ dir, onChange }),
      disclosures: await FileDisclosureStore.open({ dir, onChange }),
      plans: await FilePlanStore.open({ dir, onChange })
    }
    audit = await FileAuditLog.open({ dir, gatewayId: options.gatewayId, maxBatch: options.maxBatch, checkpoint: options.checkpoint })
    const replay = new MemoryReplayGuard({ now: options.now })
    const quota = new MemoryQuotaCounter()
    await restoreExchangeGuards(audit, replay, quota, { windowS: options.replayWindowS ?? DEFAULT_REPLAY_WINDOW_S, now: options.now?.() })
    parts = { ...documents, audit, replay, quota }
  } catch (err) {
    try {
      await audit?.close()
    } finally {
      await lock.release()
    }
    throw err
  }
  return assemble(parts, changes, lock.release, async () => {
    try {
      await stat(dir)
    } catch (err) {
      throw new GovexError('GOVEX_ERR_UNAVAILABLE', `the data folder ${dir} cannot be read (${(err as Error).message}); restore it and restart`, { cause: err })
    }
  })
}

function checkGatewayId (gatewayId: unknown): void {
  if (!isMemberId(gatewayId)) throw new GovexError('GOVEX_ERR_BAD_REQUEST', `gatewayId ${JSON.stringify(gatewayId)} is not a legal member id; use a dotted lowercase id such as tj.gw.extranet-1`)
}

type Parts = Pick<Stores, 'members' | 'directories' | 'disclosures' | 'plans' | 'audit'> & { replay?: MemoryReplayGuard, quota?: MemoryQuotaCounter }

/** `release` runs after the audit log closed (the file store's folder lock). */
function assemble (parts: Parts, changes: Changes, release: () => Promise<void>, check: () => Promise<void>): Stores {
  let closed = false
  // One process: both live in its memory, whatever holds the documents.
  const replay = parts.replay ?? new MemoryReplayGuard()
  const quota = parts.quota ?? new MemoryQuotaCounter()
  return {
    ...parts,
    replay,
    quota,
    async admit (admission) {
      return admitInMemory(replay, quota, admission)
    },
    subscribe: listener => changes.subscribe(listener),
    async ping () {
      if (closed) throw new GovexError('GOVEX_ERR_UNAVAILABLE', 'the stores are closed; open them again')
      await check()
    },
    async close () {
      if (closed) return
      closed = true
      changes.clear()
      try {
        await parts.audit.close()
      } finally {
        await release()
      }
    }
  }
}

/** In-process change notification: the embedded stores' subscribe(). */
class Changes {
  readonly #listeners = new Set<(change: StoreChange) => void>()

  readonly emit = (change: StoreChange): void => {
    for (const listener of this.#listeners) {
      try {
        listener(change)
      } catch (err) {
        // The change is committed already; a failing listener must not undo
        // the write for its caller, nor stop the other listeners.
        process.emitWarning(err as Error)
      }
    }
  }

  subscribe (listener: (change: StoreChange) => void): () => void {
    // A wrapper, so the same function subscribed twice is two subscriptions.
    const entry = (change: StoreChange): void => listener(change)
    this.#listeners.add(entry)
    return () => { this.#listeners.delete(entry) }
  }

  clear (): void {
    this.#listeners.clear()
  }
}
