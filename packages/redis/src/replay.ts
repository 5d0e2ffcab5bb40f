// Replay guard shared by every gateway: an envelope id is a key set with
// NX and an expiry of the replay window, so the first claim anywhere wins.
import type { Redis } from 'ioredis'
import type { ReplayGuard } from '@govex/core'
import { guarded } from './connection.js'
import type { KeyLayout } from './keys.js'

export class RedisReplayGuard implements ReplayGuard {
  constructor (private readonly client: Redis, private readonly keys: KeyLayout) {}

  async claim (id: string, windowS: number): Promise<boolean> {
    const seconds = Math.max(1, Math.ceil(windowS))
    const answer = await guarded('claiming an envelope id in Redis', () => this.client.set(this.keys.replay(id), '1', 'EX', seconds, 'NX'))
    return answer === 'OK'
  }

  async release (id: string): Promise<void> {
    await guarded('releasing an envelope id in Redis', () => this.client.del(this.keys.replay(id)))
  }
}
