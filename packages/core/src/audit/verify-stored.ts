// Verifying the chains a store keeps itself (a file log's chain files, the
// Redis log's streams): each chain's stored lines come in blocks, checked by a
// ChunkChecker (on worker threads for a large log, see threadsFor) and fed to
// the chain's ChainVerifier in order; the first bad record ends the walk.
import type { AuditVerifyOptions, AuditVerifyResult, ChainHead } from '../store/types.js'
import type { Spares } from './lines.js'
import { ChainVerifier, feedStoredChunk, verifyResult } from './verify.js'
import { checkedInOrder, chunkChecker, threadsFor, type CheckedChunk } from './verify-pool.js'

export interface StoredBlock {
  /** whole lines, over memory of its own (it may go to a worker thread); given back to `spares` once fed */
  buf: Buffer
  /** set when the chain ends in a line cut short after this block */
  torn?: unknown
}

export interface StoredChain<T extends StoredBlock> {
  gatewayId: string
  /** the head the store knows: a chain that stops short of it is truncated */
  head: ChainHead | undefined
  /** the chain's lines in stored order, read only when its turn comes */
  blocks: AsyncIterable<T>
}

export interface StoredChainsOptions extends Pick<AuditVerifyOptions, 'keys' | 'onProgress'> {
  /** about how many bytes the chains hold: large logs are checked on worker threads (threadsFor) */
  bytes: number
  /** worker threads as the log was opened with (undefined: by `bytes`) */
  threads: number | undefined
  spares: Spares
}

/**
 * Walks `chains` one after the other and answers as verify does. `feed` takes
 * a checked block into its chain and returns the records it held (by default
 * feedStoredChunk: one step when clean, else line by line).
 */
export async function verifyStoredChains<T extends StoredBlock> (
  chains: Iterable<StoredChain<T>>,
  { bytes, threads, spares, keys, onProgress }: StoredChainsOptions,
  feed: (chain: ChainVerifier, block: T & CheckedChunk) => number = (chain, block) => feedStoredChunk(chain, block.buf, block.summary)
): Promise<AuditVerifyResult> {
  const checker = chunkChecker(threadsFor(bytes, threads))
  try {
    let checked = 0
    const walked: ChainVerifier[] = []
    for (const { gatewayId, head, blocks } of chains) {
      const chain = new ChainVerifier(gatewayId, head, { keys })
      for await (const block of checkedInOrder(blocks, checker)) {
        checked += feed(chain, block)
        onProgress?.(checked)
        spares.give(block.buf)
        if (chain.done) return verifyResult(checked, [chain])
        if (block.torn !== undefined) chain.tornTail()
      }
      if (chain.finish() !== null) return verifyResult(checked, [chain])
      walked.push(chain)
    }
    return verifyResult(checked, walked)
  } finally {
    await checker.close()
  }
}
