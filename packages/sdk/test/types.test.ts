// Type tests: one tsc run over two fixtures proves that typed requests compile
// (typed-client.ts, whose @ts-expect-error lines must each be needed) and that
// asking for a field the resource does not declare is a compile error
// (undeclared-field.ts, which must fail, and only there).
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const run = promisify(execFile)
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const dir = fileURLToPath(new URL('./types/', import.meta.url))

t.test('typed fields: good requests compile, an undeclared field does not', async t => {
  const result = await run(process.execPath, [tsc, '-p', dir + 'tsconfig.json'], { cwd: dir })
    .then(() => ({ stdout: '' }), (e: { stdout: string }) => e)
  const errors = result.stdout.split('\n').filter(line => line.includes('error TS'))
  t.ok(errors.length > 0, 'tsc must fail on undeclared-field.ts')
  t.same(errors.filter(line => !line.startsWith('undeclared-field.ts')), [], 'typed-client.ts compiles, every @ts-expect-error is needed')
  t.match(errors.join('\n'), /"salary"/)
})
