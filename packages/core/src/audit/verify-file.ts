// Verifying a file of stored lines offline (an NDJSON export, a copied log):
// `govex audit verify --file`. Large reads split natively, each line checked
// by hashing its text, memory flat whatever the file's size.
import { open } from 'node:fs/promises'
import type { AuditVerifyResult } from '../store/types.js'
import { readLineChunks } from './lines.js'
import { eachLine } from './line-scan.js'
import { ChainSet, type VerifyChainOptions } from './verify.js'

const GATEWAY_ID = /"gatewayId":"([^"\\]+)"/

/** Verifies every chain in the file at `path` (see verifyChain for `options`). */
export async function verifyFile (path: string, options: VerifyChainOptions = {}, onLines?: (count: number) => void): Promise<AuditVerifyResult> {
  const fh = await open(path, 'r')
  try {
    const set = new ChainSet(options)
    for await (const { buf, torn } of readLineChunks(fh)) {
      const lines = eachLine(buf, facts => set.feed(facts))
      onLines?.(lines)
      if (set.done) return set.result()
      if (torn !== undefined) {
        // a last line cut short: its chain is truncated there
        set.tornTail(GATEWAY_ID.exec(torn.toString('utf8'))?.[1] ?? '')
      }
    }
    return set.result()
  } finally {
    await fh.close()
  }
}
