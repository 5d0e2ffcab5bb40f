// Prepares the example deployment on first use: an Ed25519 key pair per member
// (keys/, git-ignored: private keys are never committed) and the bootstrap
// member list with the public keys filled in (data-seed/members.json, git-ignored).
// Safe to run any number of times: existing keys are kept, missing ones are made.
import { generateKeyPairSync } from 'node:crypto'
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** This example's folder (where members.template.json lives). */
export const EXAMPLE_DIR = dirname(fileURLToPath(import.meta.url))

/** Key ids name the member and the year, so a rotation adds `<member>-2027` beside the old key. */
export function kidOf (memberId, year = '2026') {
  return `${memberId}-${year}`
}

/** Where a member's key files live: `<id>.key.json` (private JWK) and `<id>.pub.json` (public JWK), as `govex keys generate` writes them. */
export function keyPaths (memberId, dir = EXAMPLE_DIR) {
  const keysDir = join(dir, 'keys')
  return { privateFile: join(keysDir, `${memberId}.key.json`), publicFile: join(keysDir, `${memberId}.pub.json`) }
}

/** A fresh Ed25519 key pair as JWKs (RFC 8037) with a `kid`. */
export function generateMemberKey (memberId) {
  const { privateKey } = generateKeyPairSync('ed25519')
  const { x, d } = privateKey.export({ format: 'jwk' })
  const kid = kidOf(memberId)
  return {
    privateJwk: { kid, kty: 'OKP', crv: 'Ed25519', x, d },
    publicJwk: { kid, kty: 'OKP', crv: 'Ed25519', x }
  }
}

/** The member documents of the template with each member's public key in `keys` (property order kept). */
export function buildMembers (template, publicKeys) {
  return template.map(member => {
    const key = publicKeys.get(member.id)
    if (key === undefined) throw new Error(`no public key for member ${member.id}: run node examples/tianjin/setup.js`)
    return { ...member, keys: [key] }
  })
}

export async function readTemplate (dir = EXAMPLE_DIR) {
  return JSON.parse(await readFile(join(dir, 'members.template.json'), 'utf8'))
}

/**
 * Makes sure every member of the template has a key pair under keys/ and that
 * data-seed/members.json lists the members with their public keys.
 * Returns the paths, the members, and which members got new keys.
 */
export async function setupExample ({ dir = EXAMPLE_DIR, log = () => {} } = {}) {
  const template = await readTemplate(dir)
  const keysDir = join(dir, 'keys')
  await mkdir(keysDir, { recursive: true, mode: 0o700 })
  const publicKeys = new Map()
  const generated = []
  for (const { id } of template) {
    const { privateFile, publicFile } = keyPaths(id, dir)
    let privateJwk = await readJsonIfExists(privateFile)
    if (privateJwk === undefined) {
      const pair = generateMemberKey(id)
      privateJwk = pair.privateJwk
      // 'wx': if another process created the key in the meantime, fail rather than overwrite it.
      await writeFile(privateFile, JSON.stringify(privateJwk, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
      generated.push(id)
    }
    const publicJwk = { kid: privateJwk.kid, kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x }
    await writeIfChanged(publicFile, JSON.stringify(publicJwk, null, 2) + '\n')
    publicKeys.set(id, publicJwk)
  }
  const members = buildMembers(template, publicKeys)
  const seedDir = join(dir, 'data-seed')
  await mkdir(seedDir, { recursive: true })
  const membersFile = join(seedDir, 'members.json')
  await writeIfChanged(membersFile, JSON.stringify(members, null, 2) + '\n')
  if (generated.length > 0) log(`generated Ed25519 keys for ${generated.join(', ')} in ${keysDir}`)
  return { keysDir, membersFile, members, generated }
}

async function readJsonIfExists (file) {
  try {
    return JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    if (err.code === 'ENOENT') return undefined
    throw new Error(`cannot read ${file}: ${err.message}; delete it to have a new key generated`)
  }
}

// Rewriting identical content would still bump mtimes and wake file watchers; compare first,
// and write through a temporary file so a reader never sees half a document.
async function writeIfChanged (file, text) {
  const current = await readFile(file, 'utf8').catch(() => undefined)
  if (current === text) return
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, text)
  await rename(tmp, file)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { membersFile, generated } = await setupExample({ log: line => console.log(line) })
  console.log(generated.length > 0 ? `wrote ${membersFile}` : `keys already present; ${membersFile} is up to date`)
}
