// The member registry held in memory (tests, and the base of the file registry).
import type { Member } from '../../schemas/member.js'
import type { MemberRegistry, StoreChange } from '../types.js'
import { MemoryDocumentStore } from './documents.js'

export class MemoryMemberRegistry extends MemoryDocumentStore<Member> implements MemberRegistry {
  protected keyOf (member: Member): string {
    return member.id
  }

  protected changeOf (id: string): StoreChange {
    return { kind: 'member', id }
  }
}
