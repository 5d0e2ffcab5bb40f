// Key files as `govex keys generate` writes them: <id>.key.json (private JWK,
// mode 0600) and <id>.pub.json (public JWK with kid), and reading them back.
import { join } from 'node:path'
import { generateKeyPair, isMemberId, validateSchema, PrivateJwk, PublicJwk } from '@govex/core'
import type { PrivateJwk as PrivateJwkType, PublicJwk as PublicJwkType } from '@govex/core'
import { CliError } from './errors.js'
import { readJson, writeJson } from './files.js'

export interface KeyFiles {
  id: string
  privateFile: string
  publicFile: string
  privateJwk: PrivateJwkType
  publicJwk: PublicJwkType
}

/** A kid that says when the key was made: `2026-11-27`, the date in UTC. */
export function defaultKid (now = new Date()): string {
  return now.toISOString().slice(0, 10)
}

export async function generateKeyFiles (id: string, dir: string, options: { kid?: string | undefined, force?: boolean } = {}): Promise<KeyFiles> {
  if (!isMemberId(id)) {
    throw new CliError(`"${id}" is not a member id: use a dotted lowercase path such as tj.psb`)
  }
  const kid = options.kid ?? defaultKid()
  const { privateJwk, publicJwk } = generateKeyPair(kid)
  const privateFile = join(dir, `${id}.key.json`)
  const publicFile = join(dir, `${id}.pub.json`)
  const force = options.force === true
  await writeJson(privateFile, privateJwk, { force, mode: 0o600 })
  await writeJson(publicFile, publicJwk, { force })
  return { id, privateFile, publicFile, privateJwk, publicJwk }
}

export async function readPrivateJwk (file: string): Promise<PrivateJwkType> {
  const value = await readJson(file, 'private key')
  const result = validateSchema(PrivateJwk, value)
  if (!result.ok) {
    const looksPublic = typeof value === 'object' && value !== null && !('d' in value)
    throw new CliError(looksPublic
      ? `${file} is a public key; pass the private key file (<id>.key.json)`
      : `${file} is not an Ed25519 private JWK: ${result.problems.map(p => `${p.path || '/'} ${p.message}`).join('; ')}`)
  }
  return result.value
}

export async function readPublicJwk (file: string): Promise<PublicJwkType> {
  const value = await readJson(file, 'public key')
  const result = validateSchema(PublicJwk, value)
  if (!result.ok) {
    throw new CliError(`${file} is not an Ed25519 public JWK: ${result.problems.map(p => `${p.path || '/'} ${p.message}`).join('; ')}`)
  }
  return result.value
}
