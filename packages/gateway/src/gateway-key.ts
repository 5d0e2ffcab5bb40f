// The gateway's own Ed25519 key (config `keyFile`, a private JWK) and the JWT
// it signs for every forwarded call (PROTOCOL.md "Gateway → provider"). The
// KeyObject and the encoded header are built once; per call only the claims are
// encoded and signed.
import { readFile } from 'node:fs/promises'
import { sign, type KeyObject } from 'node:crypto'
import { PrivateJwk, GovexError, b64url, checkpointSigner, privateKeyFromJwk, publicJwkOf, validateSchema } from '@govex/core'
import type { CheckpointSign, PublicJwk } from '@govex/core'

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
  /** a compact JWT over the claims, header `{ alg: EdDSA, kid }` */
  sign (claims: ProviderClaims): string
  /** signs the audit chain's checkpoints (a detached JWS over the head hash) */
  signCheckpoint?: CheckpointSign
}

export function gatewayKeyFromJwk (jwk: PrivateJwk): GatewayKey {
  const key: KeyObject = privateKeyFromJwk(jwk)
  const header = b64url(JSON.stringify({ alg: 'EdDSA', kid: jwk.kid })) + '.'
  return {
    kid: jwk.kid,
    publicJwk: publicJwkOf(jwk),
    sign (claims) {
      const input = header + Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')
      return input + '.' + sign(null, Buffer.from(input, 'latin1'), key).toString('base64url')
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
