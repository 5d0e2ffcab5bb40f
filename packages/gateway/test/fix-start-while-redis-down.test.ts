// buildGateway on a Redis store that is down at start: it starts, /readyz and
// every /v1 call answer 503 GOVEX_ERR_UNAVAILABLE (not 401: no caller can be
// known before members load), and it becomes ready by itself once Redis
// answers. Through a proxy the test controls; keys under a random prefix.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { buildGateway, resolveConfig } from '../src/index.js'
import { PURPOSE, createDeployment } from './helpers/deployment.js'
import { RedisProxy } from '../../redis/test/helpers/proxy.js'
import { REDIS_URL, needRedis, randomPrefix, deletePrefix } from '../../redis/test/helpers/redis.js'

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

if (await needRedis(t)) {
  t.test('a gateway started while Redis is down answers 503, then becomes ready by itself', async t => {
    const d = await createDeployment()
    const proxy = await RedisProxy.start(REDIS_URL)
    const prefix = randomPrefix()
    t.teardown(async () => { await proxy.close(); await deletePrefix(REDIS_URL, prefix); await d.cleanup() })
    const config = resolveConfig({ ...d.raw, store: { kind: 'redis', url: proxy.url, prefix } }, { dir: d.dir })
    proxy.down()

    const started = Date.now()
    const app = await buildGateway({ config })
    t.teardown(() => app.close())
    t.ok(Date.now() - started < 2000, `built in ${Date.now() - started} ms with Redis down`)

    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(ready.statusCode, 503)
    t.equal(ready.json().code, 'GOVEX_ERR_UNAVAILABLE')
    const exchange = () => app.inject({
      method: 'POST',
      url: '/v1/exchange/tj.psb:household-registration',
      headers: d.actors.mca.auth(),
      payload: { id: randomUUID(), purpose: PURPOSE, query: { idNumber: '120101199001011234' } }
    })
    const early = await exchange()
    t.equal(early.statusCode, 503, 'an exchange fails closed')
    t.equal(early.json().code, 'GOVEX_ERR_UNAVAILABLE')
    t.match(early.json().message, /retry/)
    const noToken = await app.inject({ method: 'GET', url: '/v1/catalog' })
    t.equal(noToken.statusCode, 503, 'even without a token: nobody can be authenticated yet')

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
  })
}
