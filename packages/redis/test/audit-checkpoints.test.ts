// Issue 7 on Redis: checkpoints land in the stream with the record they sign
// (and in a per-gateway index), verify checks them with the gateway's key,
// a range is verified from the last checkpoint before it, every tampering is
// named with its seq and reason, and stats come from the indexes.
import t from 'tap'
import { checkpointKeysOf, checkpointSigner, generateKeyPair, type AuditRecord } from '@govex/core'
import { changeField, deleteRecord, swapRecords, truncateTail, rewriteFrom } from '@govex/core/contract'
import type { Redis } from 'ioredis'
import { needRedis, rawClient, scope } from './helpers/redis.js'
import { exchange } from './helpers/fixtures.js'

const GW = 'tj.gw.test-1'
const gateway = generateKeyPair('gw-1')
const keys = checkpointKeysOf([{ id: GW, name: 'Gateway', roles: ['gateway'], keys: [gateway.publicJwk] }])
const checkpoint = { every: 10, sign: checkpointSigner(gateway.privateJwk) }

async function lines (raw: Redis, stream: string): Promise<string[]> {
  return (await raw.xrange(stream, '-', '+')).map(([, fields]) => fields[1] as string)
}

/** Puts `lines` in the stream in their order, as an intruder with write access would. */
async function rewrite (raw: Redis, stream: string, text: readonly string[]): Promise<void> {
  await raw.del(stream)
  for (let i = 0; i < text.length; i++) {
    const line = text[i] as string
    await raw.xadd(stream, `${i + 1}-1`, 'r', line, 'h', (JSON.parse(line) as AuditRecord).hash)
  }
}

if (await needRedis(t)) {
  t.test('checkpoints in the stream, verified with the gateway key, whole or from a checkpoint', async t => {
    const s = scope(t)
    const stores = await s.open({ checkpoint })
    const appended = await Promise.all(Array.from({ length: 40 }, async (_, i) => await stores.audit.append(exchange(i % 2 === 0 ? 'tj.mca' : 'tj.hrss', 'tj.psb', i))))
    t.same(appended.slice(8, 12).map(r => r.seq), [9, 10, 12, 13], 'seq 11 is a checkpoint')
    t.same(stores.audit.head().seq, 44)
    const cps = (await stores.audit.query({ kind: 'checkpoint' }, 10)).records
    t.same(cps.map(r => r.seq), [11, 21, 31, 41])
    t.same(await stores.audit.verify({ keys }), { ok: true, checked: 44, checkpoints: 4, lastCheckpoint: { [GW]: 41 } })
    t.same(await stores.audit.verify(), { ok: true, checked: 44 })
    // the checkpoint index says where a range starts
    const all = (await stores.audit.query({}, 100)).records
    const later = all.filter(r => r.seq >= 25)
    const ts = later[0]?.ts as string
    const lastBefore = [...all].reverse().find(r => r.kind === 'checkpoint' && r.ts < ts)
    const ranged = await stores.audit.verify({ from: ts, keys })
    t.equal(ranged.ok, true)
    t.equal(ranged.checked, 44 - (lastBefore?.seq ?? 1) + 1, 'from the last checkpoint before `from`')
    t.same(await stores.audit.verify({ to: '2000-01-01T00:00:00Z' }), { ok: true, checked: 0 })
    await t.rejects(stores.audit.verify({ from: 'nope' }), { code: 'GOVEX_ERR_BAD_REQUEST' })

    const stats = await stores.audit.statistics('consumer')
    t.match(stats, { by: 'consumer', total: 40, groups: [{ key: 'tj.hrss', count: 20 }, { key: 'tj.mca', count: 20 }] })
    t.same(stats.groups[0]?.latencyMs, { p50: 1.5, p95: 1.5, p99: 1.5 })
    t.equal((await stores.audit.statistics('provider', { consumer: 'tj.mca' })).total, 20, 'through the consumer index')
  })

  t.test('every tampering is named with its seq and reason', async t => {
    const s = scope(t)
    const stores = await s.open({ checkpoint })
    for (let i = 0; i < 40; i++) await stores.audit.append(exchange('tj.mca', 'tj.psb', i))
    const raw = await rawClient(t)
    const stream = `${s.prefix}{govex}:audit:${GW}`
    const intact = await lines(raw, stream)
    t.equal(intact.length, 44)
    const cases = [
      changeField(intact, 5, 'userId', 'officer-X'),
      deleteRecord(intact, 5),
      swapRecords(intact, 5, 6),
      truncateTail(intact, 3),
      rewriteFrom(intact, 3, 'userId', 'officer-X', checkpointSigner(generateKeyPair('gw-1').privateJwk))
    ]
    for (const c of cases) {
      await rewrite(raw, stream, c.lines)
      t.match(await stores.audit.verify({ keys }), { ok: false, firstBad: { gatewayId: GW, ...c.firstBad } }, c.name)
    }
    await rewrite(raw, stream, intact)
    t.match(await stores.audit.verify({ keys }), { ok: true, checked: 44 }, 'put back, it verifies again')
  })
}
