// Test helper: a gateway whose Redis user is refused some of what govex needs.
// The shared state (members, directories, the active sample plan) is first
// written by a gateway with full rights under the ACL user's key prefix, then a
// gateway is built as that user with its log captured. The user, its keys and
// both gateways are gone at teardown (packages/redis/test/helpers/acl.ts).
import { Writable } from 'node:stream'
import pino from 'pino'
import type { FastifyInstance } from 'fastify'
import { buildGateway, resolveConfig } from '../../src/index.js'
import { createDeployment, samplePlan, type Deployment } from './deployment.js'
import { activatePlan } from './gateway.js'
import { REDIS_URL, type TapLike } from '../../../redis/test/helpers/redis.js'
import { aclUser, type AclUser } from '../../../redis/test/helpers/acl.js'

/** A pino logger at info whose JSON lines land in `lines`. */
export function logSink (): { lines: string[], logger: pino.Logger } {
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(...chunk.toString('utf8').trim().split('\n')); done() } })
  return { lines, logger: pino({ level: 'info' }, sink) }
}

export interface AclGateway extends Deployment {
  app: FastifyInstance
  user: AclUser
  /** the gateway's log lines, JSON */
  lines: string[]
}

/** `rules(prefix)`: the ACL SETUSER rules of the gateway's Redis user (on, with a password, and these). */
export async function aclGateway (t: TapLike, rules: (prefix: string) => string[]): Promise<AclGateway> {
  const user = await aclUser(t, 'gw')
  await user.setUser(...rules(user.prefix))
  const d = await createDeployment()
  t.teardown(async () => { await d.cleanup() })
  const store = (url: string): Record<string, unknown> => ({ kind: 'redis', url, prefix: user.prefix, spoolDir: './data/spool' })

  const full = await buildGateway({ config: resolveConfig({ ...d.raw, store: store(REDIS_URL) }, { dir: d.dir }) })
  try {
    await activatePlan({ ...d, app: full }, samplePlan())
  } finally {
    await full.close()
  }

  const { lines, logger } = logSink()
  const app = await buildGateway({ config: resolveConfig({ ...d.raw, store: store(user.url()) }, { dir: d.dir }), logger })
  t.teardown(async () => { await app.close() })
  return { ...d, app, user, lines }
}
