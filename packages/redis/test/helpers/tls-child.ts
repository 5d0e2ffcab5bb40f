// Run as a process of its own (NODE_EXTRA_CA_CERTS is read at start): opens the
// stores at argv[2] (rediss:// or rediss-sentinel://), appends two audit
// records, verifies the log through the reader's own TLS connection, and
// prints the outcome as one JSON line.
import { openRedisStores } from '../../src/index.js'
import { exchange } from './fixtures.js'

const url = process.argv[2] as string
try {
  const stores = await openRedisStores({ url, gatewayId: 'tj.gw.tls-1', prefix: 'govex-tls:' })
  await stores.ping()
  const seqs: number[] = []
  for (let i = 1; i <= 2; i++) seqs.push((await stores.audit.append(exchange('tj.mca', 'tj.psb', i))).seq)
  const verified = await stores.audit.verify()
  await stores.close()
  console.log(JSON.stringify({ ok: true, seqs, verified }))
} catch (err) {
  console.log(JSON.stringify({ ok: false, code: (err as { code?: string }).code, message: (err as Error).message }))
}
