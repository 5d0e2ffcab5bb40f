// Disclosure catalog (MODEL.md "Disclosure catalog", Art. 14): what an agency publishes proactively.
import { Type, type Static } from '@sinclair/typebox'
import { MemberId, Text, LongText, CalendarDate, Url, LIMITS } from './common.js'

/** The nine categories, in the order of Art. 14. */
export const DISCLOSURE_CATEGORIES = [
  'functions-and-contacts',
  'laws-and-normative-documents',
  'licensing-matters',
  'plans-and-programs',
  'budgets-and-public-funds',
  'public-services',
  'emergencies',
  'civil-service-recruitment',
  'other-decided-by-government'
] as const

export const DisclosureCategory = Type.Union(DISCLOSURE_CATEGORIES.map(c => Type.Literal(c)))
export type DisclosureCategory = Static<typeof DisclosureCategory>

export const DisclosureEntry = Type.Object({
  category: DisclosureCategory,
  title: Text,
  url: Type.Optional(Url),
  summary: Type.Optional(LongText),
  publishedAt: CalendarDate
}, { additionalProperties: false })
export type DisclosureEntry = Static<typeof DisclosureEntry>

export const DisclosureCatalog = Type.Object({
  agency: MemberId,
  entries: Type.Array(DisclosureEntry, { maxItems: LIMITS.entriesPerDisclosure })
}, { additionalProperties: false, $id: 'DisclosureCatalog' })
export type DisclosureCatalog = Static<typeof DisclosureCatalog>
