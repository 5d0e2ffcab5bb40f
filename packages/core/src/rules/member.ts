// Member rules beyond the schema: key ids unique within a member (a `kid` must
// select exactly one key), member ids unique within a member list.
import type { Member } from '../schemas/member.js'
import type { Problem } from '../problems.js'
import { pointer } from '../problems.js'

export function memberRules (member: Member, base = ''): Problem[] {
  const problems: Problem[] = []
  const kids = new Set<string>()
  member.keys.forEach((key, i) => {
    if (kids.has(key.kid)) {
      problems.push({ code: 'duplicate-kid', path: pointer(pointer(pointer(base, 'keys'), i), 'kid'), message: `key id "${key.kid}" is used by two keys of ${member.id}; give each key its own kid` })
    }
    kids.add(key.kid)
  })
  return problems
}

export function memberListRules (members: readonly Member[]): Problem[] {
  const problems: Problem[] = []
  const ids = new Set<string>()
  members.forEach((member, i) => {
    const base = pointer('', i)
    if (ids.has(member.id)) {
      problems.push({ code: 'duplicate-member', path: pointer(base, 'id'), message: `member "${member.id}" is listed twice; keep one entry per member` })
    }
    ids.add(member.id)
    problems.push(...memberRules(member, base))
  })
  return problems
}
