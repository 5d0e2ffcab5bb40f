// fix-feed-subscribe-retry: the change feed's heartbeat is what keeps a gateway
// admitting (a feed not fresh refuses every admission and readyz), so it must
// run even when a SUBSCRIBE fails, and it must subscribe again rather than
// ping: a PING answered on a connection that never subscribed proves nothing
// about changes. Before the fix a SUBSCRIBE that failed at start left the
// heartbeat unstarted and the stores refusing forever, with Redis healthy
// (session 6 review). A fake subscriber connection drives the feed.
import t from 'tap'
import { EventEmitter } from 'node:events'
import type { Redis } from 'ioredis'
import type { StoreChange } from '@govex/core'
import { ChangeFeed, FRESH_MS, HEARTBEAT_MS } from '../src/changes.js'
import { eventually, sleep } from './helpers/fixtures.js'

class FakeSubscriber extends EventEmitter {
  status = 'ready'
  failSubscribes = 0
  subscribes = 0
  pings = 0
  async subscribe (): Promise<number> {
    this.subscribes++
    if (this.failSubscribes > 0) {
      this.failSubscribes--
      throw new Error('Command timed out')
    }
    return 1
  }

  async ping (): Promise<string> {
    this.pings++
    return 'PONG'
  }
}

function feedOn (sub: FakeSubscriber): { feed: ChangeFeed, changes: StoreChange[], errors: Error[] } {
  const errors: Error[] = []
  const feed = new ChangeFeed(sub as unknown as Redis, 'govex:changes', err => { errors.push(err) })
  const changes: StoreChange[] = []
  feed.subscribe(change => changes.push(change))
  return { feed, changes, errors }
}

t.test('a SUBSCRIBE that fails at start is sent again by the heartbeat; the feed becomes fresh and reloads', async t => {
  const sub = new FakeSubscriber()
  sub.failSubscribes = 1
  const { feed, changes } = feedOn(sub)
  t.teardown(() => { feed.stop() })
  await t.rejects(feed.start())
  t.equal(feed.fresh, false, 'not fresh while not subscribed')
  t.equal(feed.subscribed, false)
  await eventually(2000, () => feed.fresh, fresh => fresh)
  t.equal(sub.subscribes, 2, 'subscribed again, once')
  t.same(changes, [{ kind: 'reload' }], 'what was published before the subscription is read again')
  // and it stays fresh on pings
  await sleep(FRESH_MS + HEARTBEAT_MS)
  t.equal(feed.fresh, true)
  t.ok(sub.pings > 0)
})

t.test('after a reconnect whose SUBSCRIBE fails, pings alone do not make the feed fresh', async t => {
  const sub = new FakeSubscriber()
  const { feed, changes, errors } = feedOn(sub)
  t.teardown(() => { feed.stop() })
  await feed.start()
  t.equal(feed.fresh, true)
  sub.emit('close')
  t.equal(feed.fresh, false)
  sub.failSubscribes = 3
  sub.emit('ready')
  await sleep(HEARTBEAT_MS / 2)
  t.equal(errors.length, 1, 'the failed re-subscribe is reported')
  t.same(changes, [{ kind: 'reload' }], 'a reload at once all the same')
  const pingsBefore = sub.pings
  await sleep(2 * HEARTBEAT_MS)
  t.equal(feed.fresh, false, 'still not fresh: no SUBSCRIBE answered on this connection')
  t.equal(sub.pings, pingsBefore, 'no pings stand in for the subscription')
  await eventually(3000, () => feed.fresh, fresh => fresh)
  t.equal(changes.at(-1)?.kind, 'reload', 'and a reload once subscribed')
})
