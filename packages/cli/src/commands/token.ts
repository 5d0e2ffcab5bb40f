// `govex token`: a short-lived JWT signed with a member's private key, for curl
// and scripts (PROTOCOL.md "Authentication").
import { randomUUID } from 'node:crypto'
import type { Command } from 'commander'
import { isMemberId, signJwt } from '@govex/core'
import type { PrivateJwk } from '@govex/core'
import type { Context } from '../context.js'
import { json, out, pathOf } from '../context.js'
import { CliError } from '../errors.js'
import { readPrivateJwk } from '../keyfiles.js'

/** The longest lifetime a gateway accepts (`exp - iat`, PROTOCOL.md). */
export const MAX_TTL_S = 300

export interface TokenOptions {
  iss: string
  aud: string
  ttlS?: number
  now?: number
}

/** Signs the claims PROTOCOL.md asks for: iss, aud, iat, exp, jti. */
export function makeToken (key: PrivateJwk, options: TokenOptions): { token: string, exp: number } {
  const ttl = options.ttlS ?? MAX_TTL_S
  const iat = Math.floor((options.now ?? Date.now()) / 1000)
  const exp = iat + ttl
  const token = signJwt(key, { iss: options.iss, aud: options.aud, iat, exp, jti: randomUUID() })
  return { token, exp }
}

export function parseTtl (value: string): number {
  const ttl = Number(value)
  if (!Number.isInteger(ttl) || ttl < 1) throw new CliError(`--ttl ${value} is not a whole number of seconds ≥ 1`)
  if (ttl > MAX_TTL_S) throw new CliError(`--ttl ${value} is too long: gateways refuse tokens valid for more than ${MAX_TTL_S} s; make a new token when it expires`)
  return ttl
}

export function registerToken (program: Command, ctx: Context): void {
  program.command('token')
    .description('print a JWT signed with a member\'s private key (for curl and scripts)')
    .requiredOption('--key <file>', 'the member\'s private JWK (<id>.key.json)')
    .requiredOption('--iss <member>', 'the member id the token speaks for (iss)')
    .requiredOption('--aud <gateway>', 'the gateway id, or the configured audience (aud)')
    .option('--ttl <seconds>', `lifetime, at most ${MAX_TTL_S}`, String(MAX_TTL_S))
    .option('--json', 'print { token, exp, expiresAt } as JSON')
    .addHelpText('after', `
Examples:
  $ govex token --key keys/tj.mca.key.json --iss tj.mca --aud tj.gw.extranet-1 --ttl 60
  $ TOKEN=$(govex token --key keys/tj.mca.key.json --iss tj.mca --aud tj.gw.extranet-1)
  $ curl -H "authorization: Bearer $TOKEN" http://127.0.0.1:8080/v1/grants/mine`)
    .action(async (opts: { key: string, iss: string, aud: string, ttl: string, json?: boolean }) => {
      const ttlS = parseTtl(opts.ttl)
      if (!isMemberId(opts.iss)) throw new CliError(`--iss "${opts.iss}" is not a member id (a dotted lowercase path such as tj.mca)`)
      if (!isMemberId(opts.aud)) throw new CliError(`--aud "${opts.aud}" is not a gateway id or audience (a dotted lowercase path such as tj.gw.extranet-1)`)
      const key = await readPrivateJwk(pathOf(ctx, opts.key))
      const { token, exp } = makeToken(key, { iss: opts.iss, aud: opts.aud, ttlS })
      if (opts.json === true) json(ctx, { token, exp, expiresAt: new Date(exp * 1000).toISOString() })
      else out(ctx, token)
    })
}
