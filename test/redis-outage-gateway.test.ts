// The gateway on Redis when Redis is down, frozen, or back (ARCHITECTURE.md
// "Storage", MODEL.md "Stores shared by several gateways", PROTOCOL.md 503 and
// readyz), against the shared test Redis through a TCP proxy the test
// controls (the real server is never stopped or flushed; keys live under a
// random prefix, deleted afterwards):
// - exchanges answer 503 GOVEX_ERR_UNAVAILABLE within 2 s and /readyz 503;
// - audit records go to <dir of the config>/data/spool/<gatewayId>.jsonl and
//   reach Redis in order, once each, as soon as it answers, with no traffic;
// - a change made through another gateway while this one was cut off is
//   picked up on reconnect; changes reach the other gateway within 1 s.
import t, { type Test } from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, signJwt } from '@govex/core'
import type { Member } from '@govex/core'
import { Redis } from 'ioredis'
import { buildGateway, resolveConfig } from '../packages/gateway/src/index.js'
import { harness, envelope, exchange, expectOk, type Harness } from '../packages/gateway/test/helpers/gateway.js'
import { openRedisStores } from '../packages/redis/src/index.js'
import { RedisProxy } from '../packages/redis/test/helpers/proxy.js'
import { REDIS_URL, needRedis, randomPrefix, deletePrefix } from './helpers/redis.js'

type LightMyRequestResponse = Awaited<ReturnType<typeof exchange>>

const RESOURCE = 'tj.psb:household-registration'
const GW = 'tj.gw.test-1'

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

async function timed (call: () => Promise<LightMyRequestResponse>): Promise<{ res: LightMyRequestResponse, ms: number }> {
  const started = performance.now()
  const res = await call()
  return { res, ms: performance.now() - started }
}

/** Polls `read` until `done` holds; resolves with the ms it took (rejects after `ms`). */
async function until<T> (ms: number, read: () => Promise<T>, done: (value: T) => boolean): Promise<number> {
  const started = performance.now()
  let last: T | undefined
  while (performance.now() - started < ms) {
    last = await read()
    if (done(last)) return performance.now() - started
    await sleep(10)
  }
  throw new Error(`not within ${ms} ms (last: ${JSON.stringify(last)})`)
}

interface Rig {
  h: Harness
  proxy: RedisProxy
  prefix: string
  raw: Redis
  spoolFile: string
  stream: string
}

async function rig (t: Test): Promise<Rig> {
  const proxy = await RedisProxy.start(REDIS_URL)
  const prefix = randomPrefix()
  const raw = new Redis(REDIS_URL, { lazyConnect: true })
  await raw.connect()
  t.teardown(async () => {
    raw.disconnect()
    await proxy.close()
    await deletePrefix(REDIS_URL, prefix)
  })
  // harness() closes the gateway before the teardown above runs (tap runs teardowns last in, first out)
  const h = await harness(t, { config: raw => { raw.store = { kind: 'redis', url: proxy.url, prefix } } })
  return { h, proxy, prefix, raw, spoolFile: join(h.dir, 'data', 'spool', `${GW}.jsonl`), stream: `${prefix}{govex}:audit:${GW}` }
}

async function spooledSeqs (file: string): Promise<number[]> {
  let text = ''
  try { text = await readFile(file, 'utf8') } catch {}
  return text.split('\n').filter(line => line !== '').map(line => (JSON.parse(line) as { seq: number }).seq)
}

async function streamIds (raw: Redis, stream: string): Promise<string[]> {
  return (await raw.xrange(stream, '-', '+')).map(([id]) => id)
}

/** A new agency member with its own key, and a token signer for it. */
function newAgency (id: string): { member: Member, auth: () => Record<string, string> } {
  const { privateJwk, publicJwk } = generateKeyPair(`${id}-k1`)
  const auth = (): Record<string, string> => {
    const iat = Math.floor(Date.now() / 1000)
    return { authorization: 'Bearer ' + signJwt(privateJwk, { iss: id, aud: GW, iat, exp: iat + 120, jti: crypto.randomUUID() }) }
  }
  return { member: { id, name: `Agency ${id}`, roles: ['agency'], keys: [publicJwk] }, auth }
}

if (await needRedis(t)) {
  t.test('Redis down: 503 within 2 s, readyz 503, records spooled, drained with no traffic once it is back, a change missed meanwhile picked up', async t => {
    const { h, proxy, raw, spoolFile, stream, prefix } = await rig(t)
    t.equal((await exchange(h, RESOURCE, envelope())).statusCode, 200, 'exchanges work through the proxy')
    const before = (await streamIds(raw, stream)).length

    proxy.down()
    const answers = await Promise.all([
      timed(async () => await exchange(h, RESOURCE, envelope())),
      ...Array.from({ length: 4 }, async (_, i) => { await sleep(i * 100); return await timed(async () => await exchange(h, RESOURCE, envelope())) })
    ])
    const slowest = Math.max(...answers.map(a => a.ms))
    for (const { res } of answers) t.match(res.json(), { code: 'GOVEX_ERR_UNAVAILABLE' }, `503 GOVEX_ERR_UNAVAILABLE (${res.statusCode})`)
    t.ok(answers.every(a => a.res.statusCode === 503), 'every exchange 503')
    t.ok(slowest < 2000, `every 503 within 2 s (slowest ${Math.round(slowest)} ms)`)
    const ready = await timed(async () => await h.app.inject({ method: 'GET', url: '/readyz' }))
    t.equal(ready.res.statusCode, 503, `readyz 503 (${Math.round(ready.ms)} ms)`)
    t.equal(ready.res.json().code, 'GOVEX_ERR_UNAVAILABLE')
    t.ok(ready.ms < 2000)

    const spooled = await spooledSeqs(spoolFile)
    t.same(spooled, Array.from({ length: 5 }, (_, i) => before + 1 + i), `the five refusals are in ${spoolFile}, in order`)

    // meanwhile another gateway (straight to Redis) registers an agency this one has not heard of
    const civil = newAgency('tj.civil')
    const other = await openRedisStores({ url: REDIS_URL, prefix, gatewayId: 'tj.gw.test-2' })
    t.teardown(() => other.close())
    await other.members.put(civil.member)

    proxy.open()
    // nothing is sent to the gateway: the spool drains on its own
    const drained = await until(5000, async () => await streamIds(raw, stream), ids => ids.length === before + 5)
    t.pass(`the spool drained into Redis ${Math.round(drained)} ms after Redis came back`)
    const ids = await streamIds(raw, stream)
    t.same(ids, Array.from({ length: before + 5 }, (_, i) => `${i + 1}-1`), 'in order, once each')
    await until(2000, async () => await spooledSeqs(spoolFile), seqs => seqs.length === 0)

    // until the reload is in, every /v1 call answers 503 (nothing decided on the stale view), then the new member is known
    const known = await until(3000, async () => (await exchange(h, RESOURCE, envelope(), civil.auth())).statusCode, status => status !== 401 && status !== 503)
    t.pass(`the member added while cut off is known ${Math.round(known)} ms after reconnect`)
    t.equal((await exchange(h, RESOURCE, envelope(), civil.auth())).json().code, 'GOVEX_ERR_NO_GRANT', 'authenticated, refused by the plan')
    t.equal((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'ready again')
    t.equal((await exchange(h, RESOURCE, envelope())).statusCode, 200, 'exchanges work again')
    const verify = expectOk(await h.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: h.actors.auditor.auth() })) as { ok: boolean, checked: number }
    t.same(verify, { ok: true, checked: (await streamIds(raw, stream)).length }, 'the chain verifies after the outage')
  })

  t.test('Redis frozen (connections open, no answers): 503 within 2 s, the timed-out batch not doubled', async t => {
    const { h, proxy, raw, spoolFile, stream } = await rig(t)
    t.equal((await exchange(h, RESOURCE, envelope())).statusCode, 200)
    const before = (await streamIds(raw, stream)).length
    proxy.pause()
    const answers: Array<{ res: LightMyRequestResponse, ms: number }> = []
    for (let i = 0; i < 3; i++) answers.push(await timed(async () => await exchange(h, RESOURCE, envelope())))
    answers.push(...await Promise.all([1, 2, 3].map(async () => await timed(async () => await exchange(h, RESOURCE, envelope())))))
    const slowest = Math.max(...answers.map(a => a.ms))
    t.ok(answers.every(a => a.res.statusCode === 503 && a.res.json().code === 'GOVEX_ERR_UNAVAILABLE'), `every exchange 503 GOVEX_ERR_UNAVAILABLE (${answers.map(a => a.res.statusCode).join(' ')})`)
    t.ok(slowest < 2000, `every 503 within 2 s (slowest ${Math.round(slowest)} ms)`)
    const ready = await timed(async () => await h.app.inject({ method: 'GET', url: '/readyz' }))
    t.equal(ready.res.statusCode, 503, `readyz 503 (${Math.round(ready.ms)} ms)`)
    t.ok((await spooledSeqs(spoolFile)).length > 0, 'records went to the spool')

    proxy.open()
    const opened = performance.now()
    const drained = await until(5000, async () => await spooledSeqs(spoolFile), seqs => seqs.length === 0)
    t.pass(`the spool drained ${Math.round(drained)} ms after Redis answered again`)
    const ids = await streamIds(raw, stream)
    t.same(ids, Array.from({ length: ids.length }, (_, i) => `${i + 1}-1`), `${ids.length} records in order, none twice`)
    t.equal(ids.length, before + answers.length, 'one record per refused request')
    const verify = expectOk(await h.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: h.actors.auditor.auth() })) as { ok: boolean }
    t.equal(verify.ok, true, 'the chain verifies')
    // after a freeze the subscriber reconnects and the stores reload: 503 until that is in (< 2 s)
    await until(2000, async () => (await exchange(h, RESOURCE, envelope())).statusCode, status => status !== 503)
    t.pass(`exchanges answered again ${Math.round(performance.now() - opened)} ms after Redis answered again`)
    t.equal((await exchange(h, RESOURCE, envelope())).statusCode, 200, 'exchanges work again')
  })

  t.test('a change made through one gateway is live on another within 1 s', async t => {
    const { h, proxy } = await rig(t)
    const b = await buildGateway({ config: resolveConfig({ ...h.raw, store: { kind: 'redis', url: proxy.url, prefix: (h.config.store as { prefix: string }).prefix }, gatewayId: 'tj.gw.test-2', audience: GW }, { dir: h.dir }) })
    t.teardown(async () => { await b.close() })
    const B = { ...h, app: b }
    t.equal((await exchange(B, RESOURCE, envelope())).statusCode, 200, 'B serves the plan A activated')

    const civil = newAgency('tj.civil')
    expectOk(await h.app.inject({ method: 'PUT', url: '/v1/members/tj.civil', headers: h.actors.operator.auth(), payload: civil.member }))
    const added = await until(1000, async () => (await exchange(B, RESOURCE, envelope(), civil.auth())).statusCode, status => status !== 401)
    t.pass(`a member added through A is known on B after ${Math.round(added)} ms`)

    // a key replaced through A: the old key stops working on B
    const fresh = generateKeyPair('tj.mca-k2')
    expectOk(await h.app.inject({ method: 'PUT', url: '/v1/members/tj.mca', headers: h.actors.operator.auth(), payload: { ...h.actors.mca.member, keys: [fresh.publicJwk] } }))
    const revoked = await until(1000, async () => (await exchange(B, RESOURCE, envelope())).statusCode, status => status === 401)
    t.pass(`a key replaced through A is refused on B after ${Math.round(revoked)} ms`)
  })
}
