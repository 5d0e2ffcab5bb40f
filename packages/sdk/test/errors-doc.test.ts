// docs/errors.md documents every client-side code of the SDK, and only those.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { SDK_ERROR_CODES } from '../src/index.js'

t.test('docs/errors.md lists the SDK codes', async t => {
  const doc = await readFile(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8')
  const section = doc.split('\n## Codes the SDK adds')[1] ?? ''
  t.ok(section.length > 0, 'the section exists')
  const rows = [...section.matchAll(/^\| `(GOVEX_ERR_[A-Z_]+)` \|(.+)\|(.+)\|$/gm)].map(m => m[1])
  t.same(rows.sort(), Object.keys(SDK_ERROR_CODES).sort())
})
