// Verifying a file of stored lines offline (an NDJSON export, a copied log):
// `govex audit verify --file`. Large reads, checked on worker threads when
// the file is large (verify-pool.ts) and stitched in order; memory flat
// whatever the file's size.
import { open } from 'node:fs/promises'
import type { AuditVerifyResult } from '../store/types.js'
import { readLineChunks, Spares } from './lines.js'
import { ChainSet, type VerifyChainOptions } from './verify.js'
import { checkedInOrder, chunkChecker, threadsFor } from './verify-pool.js'

const GATEWAY_ID = /"gatewayId":"([^"\\]+)"/

/** Verifies every chain in the file at `path` (see verifyChain for `options`). */
export async function verifyFile (path: string, options: VerifyChainOptions = {}, onLines?: (count: number) => void): Promise<AuditVerifyResult> {
  const fh = await open(path, 'r')
  try {
    const set = new ChainSet(options)
    // a range (from, to) is walked line by line anyway: no workers for it
    const whole = options.from === undefined && options.to === undefined
    const checker = chunkChecker(whole ? threadsFor((await fh.stat()).size, options.threads) : 0)
    try {
      const spares = new Spares()
      for await (const { buf, torn, summary } of checkedInOrder(readLineChunks(fh, 0, undefined, spares), checker)) {
        const lines = set.feedChunk(buf, summary)
        spares.give(buf)
        onLines?.(lines)
        if (set.done) return set.result()
        if (torn !== undefined) {
          // a last line cut short: its chain is truncated there
          set.tornTail(GATEWAY_ID.exec(torn.toString('utf8'))?.[1] ?? '')
        }
      }
    } finally {
      await checker.close()
    }
    return set.result()
  } finally {
    await fh.close()
  }
}
