// fix-spool-torn-write: a spool append that fails part-way (a full disk) must
// not leave its torn bytes in the file for later appends to follow, or the
// next open cannot read the spool and the gateway cannot start.
import t from 'tap'
import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { sealLine, ZERO_DIGEST, type AuditRecord } from '@govex/core'
import { Spool } from '../src/spool.js'
import { exchange } from './helpers/fixtures.js'

type Sealed = ReturnType<typeof sealLine>

function chain (from: number, to: number, prevHash: string = ZERO_DIGEST): Sealed[] {
  const out: Sealed[] = []
  for (let seq = from; seq <= to; seq++) {
    const sealed = sealLine(exchange('tj.mca', 'tj.psb', seq), { gatewayId: 'tj.gw.disk', seq, ts: new Date().toISOString(), prevHash })
    out.push(sealed)
    prevHash = sealed.record.hash
  }
  return out
}

function diskFull (): Error {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
}

/** A file whose next appends write half their data then fail, and whose truncate fails while `truncateFails`. */
class Faults {
  failAppends = 0
  truncateFails = false

  readonly openFile = async (path: string, flags: string): Promise<FileHandle> => {
    const real = await open(path, flags)
    return new Proxy(real, {
      get: (target, name) => {
        if (name === 'appendFile' && this.failAppends > 0) {
          return async (data: string) => {
            this.failAppends--
            await target.appendFile(data.slice(0, Math.floor(data.length / 2)))
            throw diskFull()
          }
        }
        if (name === 'truncate' && this.truncateFails) return async () => { throw diskFull() }
        const value = Reflect.get(target, name) as unknown
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      }
    })
  }
}

const seqs = (records: ReadonlyArray<{ record: AuditRecord }>): number[] => records.map(r => r.record.seq)

/** Opens the spool and reads every record it holds. */
async function reopen (dir: string): Promise<{ spool: Spool, records: Array<{ record: AuditRecord, line?: string | undefined }> }> {
  const spool = await Spool.open(dir, 'tj.gw.disk')
  return { spool, records: await spool.peek(Infinity) }
}

t.test('a write that fails part-way is cut back off the file; the next open reads every acknowledged record', async t => {
  const dir = t.testdir()
  const faults = new Faults()
  const spool = await Spool.open(dir, 'tj.gw.disk', faults.openFile)
  const [one, two, three] = chain(1, 3)
  await spool.write([one as Sealed])
  faults.failAppends = 1
  await t.rejects(spool.write([two as Sealed, three as Sealed]), { code: 'ENOSPC' })
  t.equal(await readFile(join(dir, 'tj.gw.disk.jsonl'), 'utf8'), (one as Sealed).line + '\n', 'the torn bytes are gone')
  // the log seals the same seqs again after a failed write
  const again = chain(2, 3, (one as Sealed).record.hash)
  await spool.write(again)
  await spool.close()
  const { spool: reopened, records } = await reopen(dir)
  t.teardown(() => reopened.close())
  t.same(seqs(records), [1, 2, 3])
  t.same(records.map(r => r.record.hash), [one, ...again].map(r => r?.record.hash), 'the records acknowledged, not the torn ones')
})

t.test('torn bytes that cannot be cut back: no append follows them, and the next open drops them', async t => {
  const dir = t.testdir()
  const faults = new Faults()
  const spool = await Spool.open(dir, 'tj.gw.disk', faults.openFile)
  const [one, two] = chain(1, 2)
  await spool.write([one as Sealed])
  faults.failAppends = 1
  faults.truncateFails = true
  await t.rejects(spool.write([two as Sealed]), { code: 'ENOSPC' })
  await t.rejects(spool.write([two as Sealed]), { code: 'ENOSPC' }, 'refused while the torn bytes stay')
  await spool.close()
  const { spool: reopened, records } = await reopen(dir)
  t.same(seqs(records), [1], 'the torn line is dropped at open')
  await reopened.write([two as Sealed])
  await reopened.close()
  const last = await reopen(dir)
  t.teardown(() => last.spool.close())
  t.same(seqs(last.records), [1, 2])

  const healed = new Faults()
  const second = { spool: await Spool.open(t.testdir(), 'tj.gw.disk', healed.openFile) }
  t.teardown(() => second.spool.close())
  await second.spool.write([one as Sealed])
  healed.failAppends = 1
  healed.truncateFails = true
  await t.rejects(second.spool.write([two as Sealed]))
  healed.truncateFails = false
  await second.spool.write([two as Sealed])
  t.same((await readFile(second.spool.path, 'utf8')).trim().split('\n').map(l => (JSON.parse(l) as AuditRecord).seq), [1, 2], 'once the bytes can be cut, appends go on')
})

t.test('an empty spool whose failed write could not be cut back is not empty: the log clears it before going on from Redis', async t => {
  // second review: whole lines of the failed write stayed in a spool that said
  // it was empty, so the log went on from Redis's head without clearing them,
  // and a restart took them for records that continue the chain
  const dir = t.testdir()
  const faults = new Faults()
  const spool = await Spool.open(dir, 'tj.gw.disk', faults.openFile)
  t.teardown(() => spool.close())
  faults.failAppends = 1
  faults.truncateFails = true
  await t.rejects(spool.write(chain(1, 4)))
  t.equal(spool.count, 0, 'no record acknowledged')
  t.equal(spool.empty, false, 'but the file holds what the failed write left')
  faults.truncateFails = false
  await spool.clear()
  t.equal(spool.empty, true)
  t.equal((await readFile(join(dir, 'tj.gw.disk.jsonl'))).length, 0, 'the stray bytes are gone')
})

t.test('a spool an older version tore mid-file still opens: the torn bytes go, the record after them stays', async t => {
  const dir = t.testdir()
  const [one, two] = chain(1, 2)
  const file = join(dir, 'tj.gw.disk.jsonl')
  await writeFile(file, `${(one as Sealed).line}\n${(two as Sealed).line.slice(0, 30)}${(two as Sealed).line}\n`)
  const { spool, records } = await reopen(dir)
  t.teardown(() => spool.close())
  t.same(seqs(records), [1, 2])
  t.equal(records[1]?.line, (two as Sealed).line)

  const bad = t.testdir()
  await writeFile(join(bad, 'tj.gw.disk.jsonl'), `${(one as Sealed).line}\nnot json\n${(two as Sealed).line}\n`)
  await t.rejects(Spool.open(bad, 'tj.gw.disk'), { code: 'GOVEX_ERR_UNAVAILABLE', message: /tj\.gw\.disk\.jsonl cannot be read: line 2 / })

  // JSON that is no audit record is named the same way, not met later as a TypeError
  for (const odd of ['{}', 'null', '[1]']) {
    const other = t.testdir()
    await writeFile(join(other, 'tj.gw.disk.jsonl'), `${(one as Sealed).line}\n${odd}\n${(two as Sealed).line}\n`)
    await t.rejects(Spool.open(other, 'tj.gw.disk'), { code: 'GOVEX_ERR_UNAVAILABLE', message: /cannot be read: line 2 / }, odd)
  }
})
