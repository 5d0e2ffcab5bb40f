// The gateway's own Ed25519 key (config `keyFile`, a private JWK) and the JWT
// it signs for every forwarded call (PROTOCOL.md "Gateway → provider"). The
// signer and the encoded header are built once; per call only the claims are
// encoded and signed (libsodium where available, see ed25519.ts).
import { readFile } from 'node:fs/promises'
import { PrivateJwk, GovexError, b64url, checkpointSigner, publicJwkOf, validateSchema } from '@govex/core'
import type { CheckpointSign, PublicJwk } from '@govex/core'
import { ed25519Signer } from './ed25519.js'
import type { SignerBackend } from './ed25519.js'

/** What a provider checks in the gateway's JWT. */
export interface ProviderClaims {
  iss: string
  aud: string
  iat: number
  exp: number
  jti: string
  resource: string
  consumer: string
  fields: readonly string[]
  digest: string
}

/** The longest life of a gateway → provider token (PROTOCOL.md: exp ≤ 60 s after iat). */
export const PROVIDER_TOKEN_TTL_S = 60

export interface GatewayKey {
  readonly kid: string
  readonly publicJwk: PublicJwk
  /** what signs: libsodium when it could be loaded, else node:crypto */
  readonly backend: SignerBackend
  /** a compact JWT over the claims, header `{ alg: EdDSA, kid }` */
  sign (claims: ProviderClaims): string
  /** signs the audit chain's checkpoints (a detached JWS over the head hash) */
  signCheckpoint?: CheckpointSign
}

export function gatewayKeyFromJwk (jwk: PrivateJwk, backend?: SignerBackend): GatewayKey {
  const signer = ed25519Signer(jwk, backend)
  const header = b64url(JSON.stringify({ alg: 'EdDSA', kid: jwk.kid })) + '.'
  return {
    kid: jwk.kid,
    publicJwk: publicJwkOf(jwk),
    backend: signer.backend,
    sign (claims) {
      const input = header + Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')
      return input + '.' + signer.sign(Buffer.from(input, 'latin1')).toString('base64url')
    },
    signCheckpoint: checkpointSigner(jwk)
  }
}

/** Reads and checks the key file; a problem is a coded error that names the file. */
export async function loadGatewayKey (file: string): Promise<GatewayKey> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(file, 'utf8')) as unknown
  } catch (err) {
    throw new GovexError('GOVEX_ERR_INVALID_DOCUMENT', `keyFile ${file} cannot be read as JSON (${(err as Error).message}); point keyFile at the gateway's private JWK (govex keys generate)`, { cause: err })
  }
  const checked = validateSchema(PrivateJwk, raw)
  if (!checked.ok) {
    throw new GovexError('GOVEX_ERR_INVALID_DOCUMENT', `keyFile ${file} is not an Ed25519 private JWK (kty OKP, crv Ed25519, kid, x, d): ${checked.problems.map(p => `${p.path} ${p.message}`).join('; ')}`, { problems: checked.problems })
  }
  try {
    return gatewayKeyFromJwk(checked.value)
  } catch (err) {
    throw new GovexError('GOVEX_ERR_INVALID_DOCUMENT', `keyFile ${file}: ${(err as Error).message}`, { cause: err })
  }
}
