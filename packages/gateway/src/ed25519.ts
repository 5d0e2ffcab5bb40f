// Ed25519 signing for the gateway's per-call JWT (PROTOCOL.md "Gateway →
// provider"): one signature per forwarded exchange, the largest single cost of
// the pipeline. libsodium (sodium-native, an optional dependency with prebuilt
// binaries) signs in about half the time of node:crypto (OpenSSL) on this
// machine; where it cannot be loaded, node:crypto signs. Ed25519 signatures are
// deterministic (RFC 8032), so both give the same bytes for the same key and
// message — a test holds them to it.
import { createRequire } from 'node:module'
import { sign as nodeSign } from 'node:crypto'
import { fromB64url, privateKeyFromJwk } from '@govex/core'
import type { PrivateJwk } from '@govex/core'

export type SignerBackend = 'libsodium' | 'node:crypto'

/** Signs messages with one private key. */
export interface Ed25519Signer {
  readonly backend: SignerBackend
  /** the 64-byte signature of `message` */
  sign (message: Buffer): Buffer
}

interface Sodium {
  crypto_sign_detached: (signature: Buffer, message: Buffer, secretKey: Buffer) => void
  crypto_sign_BYTES: number
  sodium_malloc?: (size: number) => Buffer
}

function loadSodium (): Sodium | null {
  if (process.env.GOVEX_ED25519 === 'node') return null
  try {
    const sodium = createRequire(import.meta.url)('sodium-native') as Sodium
    return typeof sodium.crypto_sign_detached === 'function' ? sodium : null
  } catch {
    return null
  }
}

const sodium = loadSodium()

/** Which backend `ed25519Signer` uses in this process (set GOVEX_ED25519=node to force node:crypto). */
export const ed25519Backend: SignerBackend = sodium === null ? 'node:crypto' : 'libsodium'

export function nodeCryptoSigner (jwk: PrivateJwk): Ed25519Signer {
  const key = privateKeyFromJwk(jwk)
  return { backend: 'node:crypto', sign: message => nodeSign(null, message, key) }
}

export function ed25519Signer (jwk: PrivateJwk, backend: SignerBackend = ed25519Backend): Ed25519Signer {
  // privateKeyFromJwk checks the key (and that x belongs to d) whichever backend signs
  const fallback = nodeCryptoSigner(jwk)
  if (backend === 'node:crypto' || sodium === null) return fallback
  const seed = fromB64url(jwk.d)
  const publicKey = fromB64url(jwk.x)
  if (seed?.length !== 32 || publicKey?.length !== 32) return fallback
  // libsodium's secret key is seed ‖ public key; kept in memory libsodium locks and guards where it can
  const secretKey = sodium.sodium_malloc?.(64) ?? Buffer.alloc(64)
  seed.copy(secretKey, 0)
  publicKey.copy(secretKey, 32)
  seed.fill(0)
  const { crypto_sign_detached: signDetached, crypto_sign_BYTES: bytes } = sodium
  return {
    backend: 'libsodium',
    sign (message) {
      const signature = Buffer.allocUnsafe(bytes)
      signDetached(signature, message, secretKey)
      return signature
    }
  }
}
