// A gateway started while Redis is down (openStores waitForRedis, then
// Runtime.start with the bootstrap): start-up goes on instead of failing, the
// stores fail closed, and once Redis answers the bootstrap runs and members,
// catalog and plan load by themselves. Against the shared test Redis through a
// proxy the test controls; keys under a random prefix, deleted afterwards.
import t from 'tap'
import type { FastifyBaseLogger } from 'fastify'
import { openStores, resolveConfig, runBootstrap } from '../src/index.js'
import { Runtime } from '../src/runtime.js'
import { createDeployment } from './helpers/deployment.js'
import { RedisProxy } from '../../redis/test/helpers/proxy.js'
import { REDIS_URL, needRedis, randomPrefix, deletePrefix } from '../../redis/test/helpers/redis.js'

const silent = { debug () {}, info () {}, warn () {}, error () {}, fatal () {}, trace () {}, child () { return silent }, level: 'silent', silent () {} } as unknown as FastifyBaseLogger
const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

if (await needRedis(t)) {
  t.test('started while Redis is down: fails closed, then bootstraps and loads once it answers', async t => {
    const d = await createDeployment()
    const proxy = await RedisProxy.start(REDIS_URL)
    const prefix = randomPrefix()
    t.teardown(async () => { await proxy.close(); await deletePrefix(REDIS_URL, prefix); await d.cleanup() })
    const config = resolveConfig({ ...d.raw, store: { kind: 'redis', url: proxy.url, prefix } }, { dir: d.dir })
    proxy.down()

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
}
