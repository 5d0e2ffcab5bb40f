// fix-docs-samples-compile: the TypeScript samples of packages/sdk/README.md and
// docs/agency-developer-guide.md that are whole programs (they start with an
// import and elide nothing) type-check as written against the SDK — agency
// developers copy them. `res.data?.name` (data may be an array) and a gateway key
// imported from its .pub.json did not.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const run = promisify(execFile)
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const root = fileURLToPath(new URL('../../../', import.meta.url))
const sdkSource = fileURLToPath(new URL('../src/index.js', import.meta.url))
const docs = ['packages/sdk/README.md', 'docs/agency-developer-guide.md']
// names a sample leaves to the reader's own code
const ambient = 'declare function findHousehold (idNumber: string): Promise<Record<string, unknown> | null>\n'

t.test('every whole TypeScript sample in the SDK docs compiles', async t => {
  const dir = t.testdir({ keys: {} })
  copyFileSync(fileURLToPath(new URL('./types/gateway.pub.json', import.meta.url)), join(dir, 'keys', 'tj.gw.extranet-1.pub.json'))
  const files: string[] = []
  for (const doc of docs) {
    const text = readFileSync(join(root, doc), 'utf8')
    let n = 0
    for (const [, code] of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
      if (code === undefined || !code.startsWith('import ') || code.includes('…')) continue
      const file = `${doc.replace(/\W+/g, '-')}-${++n}.ts`
      writeFileSync(join(dir, file), ambient + code.replaceAll("from '@govex/sdk'", `from ${JSON.stringify(sdkSource)}`))
      files.push(file)
    }
  }
  t.ok(files.length >= 4, `found the samples (${files.join(', ')})`)
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    extends: join(root, 'tsconfig.base.json'),
    compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, customConditions: ['govex-source'], noUnusedLocals: false },
    files
  }))
  const result = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir })
    .then(() => ({ code: 0, stdout: '', stderr: '' }), (e: { code?: number, stdout: string, stderr: string }) => ({ code: e.code ?? 1, stdout: e.stdout, stderr: e.stderr }))
  t.same(result.stdout.split('\n').filter(line => line.includes('error TS')), [], 'no type errors')
  // a tsc that fails without a type error (a crash, a bad tsconfig) fails the test too
  t.equal(result.code, 0, `tsc exits 0${result.code === 0 ? '' : ': ' + (result.stdout + result.stderr).slice(0, 500)}`)
})
