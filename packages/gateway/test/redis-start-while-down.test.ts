// A gateway started while Redis is down (openStores waitForRedis, then
// Runtime.start with the bootstrap): start-up goes on instead of failing, the
// stores fail closed, and once Redis answers the bootstrap runs and members,
// catalog and plan load by themselves; through buildGateway, /readyz and every
// /v1 call answer 503 (not 401: no caller can be known before members load)
// until then. Against the shared test Redis through a proxy the test controls;
// keys under a random prefix, deleted afterwards.
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import type { FastifyBaseLogger } from 'fastify'
import { buildGateway, openStores, resolveConfig, runBootstrap, type ResolvedConfig } from '../src/index.js'
import { Runtime } from '../src/runtime.js'
import { PURPOSE, createDeployment, type Deployment } from './helpers/deployment.js'
import { RedisProxy } from '../../redis/test/helpers/proxy.js'
import { REDIS_URL, needRedis, randomPrefix, deletePrefix } from '../../redis/test/helpers/redis.js'

const silent = { debug () {}, info () {}, warn () {}, error () {}, fatal () {}, trace () {}, child () { return silent }, level: 'silent', silent () {} } as unknown as FastifyBaseLogger
const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** A deployment on the test Redis behind a proxy that is down. */
async function downDeployment (t: Test): Promise<{ d: Deployment, proxy: RedisProxy, config: ResolvedConfig }> {
  const d = await createDeployment()
  const proxy = await RedisProxy.start(REDIS_URL)
  const prefix = randomPrefix()
  t.teardown(async () => { await proxy.close(); await deletePrefix(REDIS_URL, prefix); await d.cleanup() })
  const config = resolveConfig({ ...d.raw, store: { kind: 'redis', url: proxy.url, prefix } }, { dir: d.dir })
  proxy.down()
  return { d, proxy, config }
}

if (await needRedis(t)) {
  t.test('started while Redis is down: fails closed, then bootstraps and loads once it answers', async t => {
    const { proxy, config } = await downDeployment(t)

    const started = Date.now()
    const stores = await openStores(config, silent, undefined, { waitForRedis: true })
    t.teardown(() => stores.close())
    const runtime = new Runtime({ stores, log: silent, retryMs: 100 })
    t.teardown(() => runtime.close())
    runtime.watch()
    await runtime.start(async () => await runBootstrap(config, stores, silent))
    t.ok(Date.now() - started < 2000, `start-up goes on (${Date.now() - started} ms)`)
    t.equal(runtime.loaded, false, 'not loaded: readyz answers 503')
    await t.rejects(stores.ping(), { code: 'GOVEX_ERR_UNAVAILABLE' })

    proxy.open()
    const up = Date.now()
    while (!runtime.loaded && Date.now() - up < 5000) await sleep(10)
    t.equal(runtime.loaded, true, `bootstrapped and loaded ${Date.now() - up} ms after Redis answered`)
    t.equal(runtime.state.members.size, 7, 'the bootstrap members')
    t.ok(runtime.state.catalog.get('tj.psb:household-registration') !== undefined, 'the bootstrap catalog')
    await stores.ping()
    t.same(await stores.audit.verify(), { ok: true, checked: 7 + 2 + 1 }, 'the bootstrap audited: 7 members, 2 directories, 1 disclosure catalog')
  })

  t.test('a bad bootstrap still fails the start', async t => {
    const d = await createDeployment()
    const prefix = randomPrefix()
    t.teardown(async () => { await deletePrefix(REDIS_URL, prefix); await d.cleanup() })
    const config = resolveConfig({ ...d.raw, store: { kind: 'redis', url: REDIS_URL, prefix } }, { dir: d.dir })
    const stores = await openStores(config, silent, undefined, { waitForRedis: true })
    t.teardown(() => stores.close())
    const runtime = new Runtime({ stores, log: silent, retryMs: 100 })
    t.teardown(() => runtime.close())
    await t.rejects(runtime.start(async () => { throw Object.assign(new Error('bad members file'), { code: 'GOVEX_ERR_INVALID_DOCUMENT' }) }), /bad members file/)
  })

  t.test('buildGateway while Redis is down: readyz and /v1 answer 503, then it becomes ready by itself', async t => {
    const { d, proxy, config } = await downDeployment(t)
    const started = Date.now()
    const app = await buildGateway({ config })
    t.teardown(() => app.close())
    t.ok(Date.now() - started < 2000, `built in ${Date.now() - started} ms with Redis down`)
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(ready.statusCode, 503)
    t.equal(ready.json().code, 'GOVEX_ERR_UNAVAILABLE')
    const exchange = async (): Promise<{ statusCode: number, json: () => { code: string, message: string } }> => await app.inject({
      method: 'POST',
      url: '/v1/exchange/tj.psb:household-registration',
      headers: d.actors.mca.auth(),
      payload: { id: randomUUID(), purpose: PURPOSE, query: { idNumber: '120101199001011234' } }
    })
    const early = await exchange()
    t.equal(early.statusCode, 503, 'an exchange fails closed')
    t.equal(early.json().code, 'GOVEX_ERR_UNAVAILABLE')
    t.match(early.json().message, /retry/)
    t.equal((await app.inject({ method: 'GET', url: '/v1/catalog' })).statusCode, 503, 'even without a token: nobody can be authenticated yet')
    for (const url of ['/public/disclosures', '/public/disclosures/tj.psb']) {
      const portal = await app.inject({ method: 'GET', url })
      t.equal(portal.statusCode, 503, `${url}: no empty catalog (to be cached) before the load`)
      t.equal(portal.json().code, 'GOVEX_ERR_UNAVAILABLE')
    }

    proxy.open()
    const up = Date.now()
    let status = 503
    while (status !== 200 && Date.now() - up < 5000) {
      await sleep(20)
      status = (await app.inject({ method: 'GET', url: '/readyz' })).statusCode
    }
    t.equal(status, 200, `ready ${Date.now() - up} ms after Redis answered`)
    const later = await exchange()
    t.equal(later.statusCode, 403, 'authenticated once loaded (no plan is active yet)')
    t.equal(later.json().code, 'GOVEX_ERR_NO_GRANT')
    t.equal((await app.inject({ method: 'GET', url: '/public/disclosures/tj.psb' })).statusCode, 200, 'the portal serves once loaded')
  })
}
