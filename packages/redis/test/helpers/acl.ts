// Test helper: a Redis ACL user of one test on the Redis at
// GOVEX_TEST_REDIS_URL, with a random name and password and a key prefix of
// its own. At teardown the stores opened through it are closed, its keys
// deleted (as the default user) and the user deleted, whatever the test did.
import { randomBytes } from 'node:crypto'
import { rawClient, scope, REDIS_URL, type TapLike, type TestScope } from './redis.js'

export interface AclUser extends TestScope {
  /** the user's name: `govex-test-<label>-<random>` */
  readonly name: string
  readonly password: string
  /** the test Redis as this user, with its password or another one (a refused login) */
  url (password?: string): string
  /** ACL SETUSER <name> …rules: rights added to (or, after `reset`, in place of) what it has */
  setUser (...rules: string[]): Promise<void>
}

/**
 * Makes an ACL user, `on` with a random password and `rules` (e.g. `'~*'`,
 * `'+@all'`, `'resetchannels'`; none: no key, command or channel). Stores the
 * scope opens connect as this user unless the options name another `url`
 * (REDIS_URL, to write what the user then reads).
 */
export async function aclUser (t: TapLike, label: string, ...rules: string[]): Promise<AclUser> {
  const admin = await rawClient(t)
  const name = `govex-test-${label}-${randomBytes(4).toString('hex')}`
  const password = randomBytes(12).toString('hex')
  // teardowns run last first: this one after the scope's (stores closed, keys deleted)
  t.teardown(async () => { await admin.call('ACL', 'DELUSER', name) })
  await admin.call('ACL', 'SETUSER', name, 'reset', 'on', `>${password}`, ...rules)
  const url = (pass: string = password): string => {
    const u = new URL(REDIS_URL)
    u.username = name
    u.password = pass
    return u.toString()
  }
  const s = scope(t, url(), REDIS_URL)
  return {
    name,
    password,
    prefix: s.prefix,
    open: async options => await s.open(options),
    url,
    async setUser (...more) { await admin.call('ACL', 'SETUSER', name, ...more) }
  }
}
