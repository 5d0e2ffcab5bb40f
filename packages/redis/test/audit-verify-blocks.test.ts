// Verify on Redis reads each stream as raw XRANGE replies on a connection of
// its own (audit-stream.ts), in blocks of lines checked on worker threads when
// large: stitched across blocks, it names the same first bad record as a walk
// record by record; stream entries no log writes (no record, an empty one, a
// record with a line break) are judged as before; and the connection
// authenticates and selects the database as the store's own does.
import t from 'tap'
import { appendRecords } from '../src/audit-append.js'
import { AuditReader } from '../src/audit-read.js'
import { RedisAuditLog } from '../src/audit-log.js'
import { StreamReader } from '../src/audit-stream.js'
import { keyLayout } from '../src/keys.js'
import { checkpointAfter, checkpointKeysOf, checkpointSigner, generateKeyPair, sealLine, ZERO_DIGEST, type AuditRecord, type SealedRecord } from '@govex/core'
import { needRedis, rawClient, scope } from './helpers/redis.js'
import { OwnRedis } from './helpers/server.js'
import { exchange } from './helpers/fixtures.js'
import { Redis } from 'ioredis'

if (await needRedis(t)) {
  const GW = 'tj.gw.test-1'
  const key = generateKeyPair('gw-k1')
  const keys = checkpointKeysOf([{ id: GW, name: 'Gateway', roles: ['gateway'], keys: [key.publicJwk] }])
  const checkpoint = { every: 500, sign: checkpointSigner(key.privateJwk) }

  /** `n` records sealed (a checkpoint every 500 seqs), as the log would. */
  function chain (n: number): SealedRecord[] {
    const out: SealedRecord[] = []
    let prevHash = ZERO_DIGEST
    let seq = 0
    const ts = new Date().toISOString()
    for (let i = 0; i < n; i++) {
      const sealed = sealLine(exchange(i % 2 === 0 ? 'tj.mca' : 'tj.hrss', 'tj.psb', i), { gatewayId: GW, seq: ++seq, ts, prevHash })
      out.push(sealed)
      prevHash = sealed.record.hash
      const cp = checkpointAfter(sealed.record, checkpoint)
      if (cp !== undefined) {
        out.push(cp)
        seq = cp.record.seq
        prevHash = cp.record.hash
      }
    }
    return out
  }

  async function fill (client: Redis, prefix: string, records: readonly SealedRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 500) await appendRecords(client, keyLayout(prefix), GW, records.slice(i, i + 500))
  }

  t.test('blocks stitched across reads: intact, changed, removed, on one thread or several', async t => {
    const s = scope(t)
    const stores = await s.open()
    const raw = await rawClient(t)
    const records = chain(4500)
    await fill(raw, s.prefix, records)
    const total = records.length
    const head = records[total - 1] as SealedRecord
    const reader = (threads: number): AuditReader => new AuditReader(raw, keyLayout(s.prefix), threads)
    const intact = { ok: true, checked: total, checkpoints: 9, lastCheckpoint: { [GW]: 4501 } }
    t.same(await stores.audit.verify({ keys }), intact)
    t.same(await reader(2).verify({ keys }), intact, 'on worker threads')
    t.equal(head.record.seq, total)

    const stream = keyLayout(s.prefix).auditStream(GW)
    // record 3003 changed in place (in the second read of 2000)
    const entries = await raw.xrange(stream, '-', '+')
    const rebuild = async (change: (record: AuditRecord, fields: string[]) => string[] | undefined): Promise<void> => {
      await raw.del(stream)
      for (const [id, fields] of entries) {
        const record = JSON.parse(fields[1] as string) as AuditRecord
        const out = change(record, fields)
        if (out !== undefined) await raw.xadd(stream, id, ...out)
      }
    }
    await rebuild((record, fields) => record.seq === 3003 ? ['r', (fields[1] as string).replace('"officer-4711"', '"officer-4712"'), 'h', fields[3] as string] : fields)
    const changed = { ok: false, firstBad: { gatewayId: GW, seq: 3003, reason: 'changed' } }
    t.match(await stores.audit.verify({ keys }), changed)
    t.match(await reader(2).verify({ keys }), changed, 'on worker threads')

    // record 2001 (a checkpoint) removed: the first of the second read
    await rebuild((record, fields) => record.seq === 2001 ? undefined : fields)
    const missing = { ok: false, firstBad: { gatewayId: GW, seq: 2001, reason: 'missing' } }
    t.match(await stores.audit.verify({ keys }), missing)
    t.match(await reader(0).verify({ keys }), missing)
    t.match(await reader(2).verify({ keys }), missing, 'on worker threads')
  })

  t.test('stream entries no log writes: no record, an empty one, a record with a line break', async t => {
    const s = scope(t)
    const stores = await s.open()
    const raw = await rawClient(t)
    await fill(raw, s.prefix, chain(6))
    const stream = keyLayout(s.prefix).auditStream(GW)
    const entries = await raw.xrange(stream, '-', '+')
    const rebuild = async (seq: number, fields: (record: string, hash: string) => string[]): Promise<void> => {
      await raw.del(stream)
      for (const [id, f] of entries) {
        const record = JSON.parse(f[1] as string) as AuditRecord
        await raw.xadd(stream, id, ...(record.seq === seq ? fields(f[1] as string, f[3] as string) : f))
      }
    }
    t.same(await stores.audit.verify(), { ok: true, checked: 6 })
    // white space (a line break among it) between the members: the same record, sealed by the definition
    await rebuild(3, record => ['r', record.replace(',"status":', ',\n  "status": '), 'h', 'x'])
    t.same(await stores.audit.verify(), { ok: true, checked: 6 }, 'a record spread over lines is still the record')
    await rebuild(3, record => ['r', record.replace(',"status":200', ',\n"status":201'), 'h', 'x'])
    t.match(await stores.audit.verify(), { ok: false, checked: 3, firstBad: { seq: 3, reason: 'changed' } })
    await rebuild(4, () => ['h', 'x'])
    t.match(await stores.audit.verify(), { ok: false, checked: 4, firstBad: { seq: 4, reason: 'changed' } }, 'no record field')
    await rebuild(4, () => ['r', '', 'h', 'x'])
    t.match(await stores.audit.verify(), { ok: false, checked: 4, firstBad: { seq: 4, reason: 'changed' } }, 'an empty record')
    await rebuild(5, (record, hash) => ['h', hash, 'r', record])
    t.same(await stores.audit.verify(), { ok: true, checked: 6 }, 'fields in another order')
  })

  t.test('verifyThreads is checked at open', async t => {
    const raw = await rawClient(t)
    for (const verifyThreads of [-1, 2.5]) {
      await t.rejects(RedisAuditLog.open({ client: raw, keys: keyLayout('x:'), gatewayId: GW, verifyThreads }), { code: 'GOVEX_ERR_BAD_REQUEST', message: /verifyThreads/ })
    }
  })

  t.test('the reading connection authenticates and selects the database as the store does', async t => {
    const server = await OwnRedis.start()
    t.teardown(async () => { await server.kill() })
    const admin = new Redis(server.url)
    await admin.call('ACL', 'SETUSER', 'auditor', 'on', '>pass-2', '~*', '&*', '+@all')
    await admin.config('SET', 'requirepass', 'sekret')
    admin.disconnect()
    for (const url of [`redis://:sekret@127.0.0.1:${server.port}/3`, `redis://auditor:pass-2@127.0.0.1:${server.port}`]) {
      const s = scope(t, url)
      const stores = await s.open()
      for (let i = 0; i < 3; i++) await stores.audit.append(exchange('tj.mca', 'tj.psb', i))
      t.same(await stores.audit.verify(), { ok: true, checked: 3 }, url.replace(/:[^:@/]*@/, ':***@'))
    }
    // the reader takes its connection options from a client; this one never connects itself
    const wrong = new Redis(`redis://:wrong@127.0.0.1:${server.port}`, { lazyConnect: true })
    await t.rejects(StreamReader.open(wrong), { code: 'GOVEX_ERR_UNAVAILABLE', message: /WRONGPASS/ }, 'a refused password is an outage, named')
    const slow = new Redis(`redis://:sekret@127.0.0.1:${server.port}`, { lazyConnect: true, commandTimeout: 300 })
    const streams = await StreamReader.open(slow)
    t.teardown(() => { streams.close() })
    server.freeze()
    t.teardown(() => { server.thaw() })
    await t.rejects(streams.read('x:{govex}:audit:' + GW, '-', 10), { code: 'GOVEX_ERR_UNAVAILABLE', message: /no answer within 300 ms/ }, 'no answer within the deadline')
    await t.rejects(streams.read('x:{govex}:audit:' + GW, '-', 10), { code: 'GOVEX_ERR_UNAVAILABLE' }, 'and none after it')
  })
}
