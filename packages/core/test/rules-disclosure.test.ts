import t from 'tap'
import { validateDisclosure, isSchemaFailure } from '../src/documents.js'
import { DISCLOSURE_CATEGORIES } from '../src/schemas/disclosure.js'
import { disclosure } from './fixtures/docs-fixtures.js'

t.test('the example disclosure catalog passes', async t => {
  const d = disclosure()
  const result = validateDisclosure(d)
  t.ok(result.ok)
  if (result.ok) t.equal(result.value, d)
  t.ok(validateDisclosure({ agency: 'tj.psb', entries: [] }).ok)
})

t.test('every Art. 14 category, and nothing else', async t => {
  const d = disclosure()
  d.entries = DISCLOSURE_CATEGORIES.map(category => ({ category, title: category, publishedAt: '2026-01-01' }))
  t.ok(validateDisclosure(d).ok)
  const bad = disclosure() as unknown as { entries: Record<string, unknown>[] }
  bad.entries[1]!.category = 'gossip'
  const result = validateDisclosure(bad)
  t.same(result.ok ? [] : result.problems.map(p => [p.code, p.path]), [['enum', '/entries/1/category']])
  t.match(result.ok ? '' : result.problems[0]!.message, /^must be one of "functions-and-contacts", /)
})

t.test('url-scheme: entry links must be web links', async t => {
  for (const url of ['javascript:alert(1)', 'data:text/html;base64,PHNjcmlwdD4=', 'ftp://files.example/x', 'mailto:a@b.c']) {
    const d = disclosure()
    d.entries[0]!.url = url
    const result = validateDisclosure(d)
    t.same(result.ok ? [] : result.problems.map(p => [p.code, p.path]), [['url-scheme', '/entries/0/url']], url)
    t.notOk(!result.ok && isSchemaFailure(result.problems))
  }
  const d = disclosure()
  d.entries[0]!.url = 'HTTP://www.example.gov/x'
  t.ok(validateDisclosure(d).ok)
})

t.test('schema: dates and sizes', async t => {
  const d = disclosure()
  d.entries[0]!.publishedAt = '2026-02-30'
  d.entries[1]!.title = 'x'.repeat(257)
  const result = validateDisclosure(d)
  t.same(result.ok ? [] : result.problems.map(p => [p.code, p.path]), [['format', '/entries/0/publishedAt'], ['too-long', '/entries/1/title']])
})
