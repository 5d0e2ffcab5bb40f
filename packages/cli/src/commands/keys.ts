// `govex keys generate`: an Ed25519 key pair for a member, as JWK files.
import type { Command } from 'commander'
import type { Context } from '../context.js'
import { displayPath, json, out, pathOf } from '../context.js'
import { generateKeyFiles } from '../keyfiles.js'

export function registerKeys (program: Command, ctx: Context): void {
  const keys = program.command('keys').description('manage member key pairs')
  keys.command('generate')
    .description('make an Ed25519 key pair: <id>.key.json (private, mode 0600) and <id>.pub.json (public, with kid)')
    .requiredOption('--id <member>', 'member id the key belongs to, e.g. tj.psb')
    .requiredOption('--out <dir>', 'folder to write the two files to (created if missing)')
    .option('--kid <kid>', 'key id, to tell a member\'s keys apart when rotating (default: today\'s date)')
    .option('--force', 'replace existing key files')
    .option('--json', 'print the file names and the public key as JSON')
    .addHelpText('after', `
Example:
  $ govex keys generate --id tj.psb --out ./keys
  wrote keys/tj.psb.key.json (private, keep it secret) and keys/tj.psb.pub.json (public, kid 2026-11-27)

Put the public key in the member's "keys" (members.json or PUT /v1/members/{id});
keep the private key with the member, never on the gateway.`)
    .action(async (opts: { id: string, out: string, kid?: string, force?: boolean, json?: boolean }) => {
      const files = await generateKeyFiles(opts.id, pathOf(ctx, opts.out), { kid: opts.kid, force: opts.force === true })
      if (opts.json === true) {
        json(ctx, { id: files.id, kid: files.publicJwk.kid, privateKeyFile: files.privateFile, publicKeyFile: files.publicFile, publicJwk: files.publicJwk })
      } else {
        out(ctx, `wrote ${displayPath(ctx, files.privateFile)} (private, keep it secret) and ${displayPath(ctx, files.publicFile)} (public, kid ${files.publicJwk.kid})`)
      }
    })
}
