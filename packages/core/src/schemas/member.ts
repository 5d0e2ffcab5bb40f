// Member (MODEL.md "Member"): an agency, operator, approver, auditor or gateway with its public keys.
import { Type, type Static } from '@sinclair/typebox'
import { MemberId, Text, LIMITS } from './common.js'

export const ROLES = ['agency', 'operator', 'approver', 'auditor', 'gateway'] as const
export const Role = Type.Union(ROLES.map(r => Type.Literal(r)))
export type Role = Static<typeof Role>

/** An Ed25519 public key as a JWK (RFC 8037). */
export const PublicJwk = Type.Object({
  kid: Type.String({ minLength: 1, maxLength: 128 }),
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'base64url of the 32-byte public key' }),
  alg: Type.Optional(Type.Literal('EdDSA')),
  use: Type.Optional(Type.Literal('sig'))
}, { additionalProperties: false })
export type PublicJwk = Static<typeof PublicJwk>

/** An Ed25519 private key as a JWK: the public members plus `d`. */
export const PrivateJwk = Type.Object({
  kid: Type.String({ minLength: 1, maxLength: 128 }),
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
  d: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
  alg: Type.Optional(Type.Literal('EdDSA')),
  use: Type.Optional(Type.Literal('sig'))
}, { additionalProperties: false })
export type PrivateJwk = Static<typeof PrivateJwk>

export const Member = Type.Object({
  id: MemberId,
  name: Text,
  roles: Type.Array(Role, { minItems: 1, maxItems: ROLES.length, uniqueItems: true }),
  keys: Type.Array(PublicJwk, { minItems: 1, maxItems: LIMITS.keysPerMember }),
  contact: Type.Optional(Type.Object({
    office: Type.Optional(Text),
    email: Type.Optional(Type.String({ maxLength: 320 })),
    phone: Type.Optional(Type.String({ maxLength: 64 }))
  }, { additionalProperties: false }))
}, { additionalProperties: false, $id: 'Member' })
export type Member = Static<typeof Member>

export const MemberList = Type.Array(Member, { maxItems: LIMITS.membersPerFile })
