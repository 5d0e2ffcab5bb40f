// unrepresentable(): JSON that parses but that canonical JSON (and so no digest
// or audit record) can hold — a lone UTF-16 surrogate or a number beyond a
// double — found with a JSON Pointer to where it is.
import t from 'tap'
import fc from 'fast-check'
import { MAX_JSON_DEPTH, canonicalJson, isWellFormedText, nestedBeyond, toWellFormedText, unrepresentable } from '../src/index.js'

const check = (text: string): ReturnType<typeof unrepresentable> => unrepresentable(text, JSON.parse(text))

t.test('ordinary JSON, surrogate pairs and big-but-finite numbers pass', async t => {
  for (const text of ['{"a":1}', '["\\ud83d\\ude00"]', '{"n":1e300}', '{"x":"' + '9'.repeat(308) + '"}', '"\\u00e9"']) t.equal(check(text), undefined, text)
})

t.test('a lone surrogate or an overflowing number is named by its path', async t => {
  t.match(check('{"a":{"b":["ok","\\ud800"]}}'), { path: '/a/b/1', message: /lone UTF-16 surrogate \(\\uD800\)/ })
  t.match(check('{"q":{"n":1e400}}'), { path: '/q/n', message: /too large/ })
  t.match(check('[' + '9'.repeat(309) + ']'), { path: '/0' })
  t.match(check('{"a/~\\udc00":1}'), { path: '/a~1~0\\uDC00', message: /key holding a lone/ })
  // and canonical JSON indeed refuses what is found
  t.throws(() => canonicalJson(JSON.parse('{"a":"\\ud800"}')))
})

t.test('every spelling of a number that parses as Infinity is found', async t => {
  t.match(check('[1.5E+400]'), { path: '/0' })
  t.match(check('{"a":[-2e0400]}'), { path: '/a/0' })
  t.match(check('[0.1e310]'), { path: '/0' })
  // 210 to 308 integer digits need only a small exponent (review, session 6)
  t.match(check('{"n":2' + '0'.repeat(209) + 'e99}'), { path: '/n' })
  t.match(check('[-2' + '0'.repeat(299) + 'e9]'), { path: '/0' })
  t.match(check('[2' + '0'.repeat(250) + '.5E+58]'), { path: '/0' })
  fc.assert(fc.property(
    fc.boolean(), fc.integer({ min: 1, max: 400 }), fc.stringMatching(/^([.][0-9]{1,5})?$/),
    fc.option(fc.tuple(fc.constantFrom('e', 'E', 'e+', 'E+', 'e-', 'E-'), fc.nat(3), fc.integer({ min: 0, max: 5000 })), { nil: undefined }),
    (negative, digits, frac, exponent) => {
      const int = '9' + '0'.repeat(digits - 1)
      const exp = exponent === undefined ? '' : exponent[0] + '0'.repeat(exponent[1]) + String(exponent[2])
      const number = (negative ? '-' : '') + int + frac + exp
      const text = `{"id":"0193a1c2-7c1a-7a35-9b7a-2a8c7c8b5a10","n":${number}}`
      return Number.isFinite(JSON.parse(text).n) || check(text)?.path === '/n'
    }
  ), { numRuns: 2000 })
})

t.test('however deep the value is nested (review, session 6: a depth cut-off at 64 let these through)', async t => {
  const nest = (inner: string, depth: number): string => '['.repeat(depth) + inner + ']'.repeat(depth)
  t.match(check(nest('1e400', 66)), { path: '/0'.repeat(66) })
  t.match(check('{"q":' + nest('"\\ud800"', 5000) + '}'), { path: '/q' + '/0'.repeat(5000) })
  t.equal(check(nest('1e300', 5000)), undefined, 'nothing wrong: nothing found')
  // document order: the first problem, as the recursive walk found it
  t.match(check('[[1,[2,"\\udc00"]],1e999]'), { path: '/0/1/1' })
  t.match(check('{"a\\ud800":1,"b":1e999}'), { path: '/a\\uD800', message: /key holding/ })
})

t.test('well-formed text helpers', async t => {
  t.equal(isWellFormedText('a\ud83d\ude00'), true)
  t.equal(isWellFormedText('a\ud800'), false)
  t.equal(toWellFormedText('a\ud800b'), 'a\ufffdb')
})

// nestedBeyond(): the fixed nesting limit (MAX_JSON_DEPTH) every body and provider answer is held to.
const nest = (levels: number, inner: string = ''): string => '{"a":['.repeat(levels / 2) + inner + ']}'.repeat(levels / 2)
const depthOf = (value: unknown): number => typeof value !== 'object' || value === null
  ? 0
  : 1 + Math.max(0, ...Object.values(value as Record<string, unknown>).map(depthOf))

t.test('nestedBeyond: exactly MAX_JSON_DEPTH levels pass, one more is named by its path', async t => {
  t.equal(MAX_JSON_DEPTH, 64)
  t.equal(nestedBeyond(JSON.parse(nest(64))), undefined, '64 levels')
  t.equal(nestedBeyond(JSON.parse(nest(64, '1,"x",null'))), undefined, 'scalars at the bottom are no level')
  const over = nestedBeyond(JSON.parse(nest(64, '{}')))
  t.same(over, { path: '/a/0'.repeat(32), message: 'opens level 65 of nested objects and arrays, beyond the limit of 64' })
  t.equal(nestedBeyond({}), undefined)
  t.equal(nestedBeyond('text'), undefined)
  t.equal(nestedBeyond(null), undefined)
  t.same(nestedBeyond([[]], 1), { path: '/0', message: 'opens level 2 of nested objects and arrays, beyond the limit of 1' })
  t.equal(nestedBeyond([[]], 2), undefined)
})

t.test('nestedBeyond: the first container past the limit in document order, keys escaped as JSON Pointer', async t => {
  const value = JSON.parse('{"flat":1,"a/b":{"c~d":[[{"x":1}],[[["first"]]]],"later":[[[[]]]]}}')
  t.same(nestedBeyond(value, 4)?.path, '/a~1b/c~0d/0/0')
  t.same(nestedBeyond(value, 5)?.path, '/a~1b/c~0d/1/0/0')
  t.same(nestedBeyond(JSON.parse('{"\\ud800":[[]]}'), 2)?.path, '/\\uD800/0', 'a lone surrogate in a key is shown escaped')
})

t.test('nestedBeyond: any depth JSON.parse takes is measured without a stack overflow', async t => {
  const text = '['.repeat(200_000) + ']'.repeat(200_000)
  t.throws(() => JSON.stringify(JSON.parse(text)), RangeError, 'deeper than JSON.stringify can walk')
  t.same(nestedBeyond(JSON.parse(text))?.path, '/0'.repeat(64))
})

t.test('nestedBeyond agrees with the depth of the value', async t => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 9 }), (value, limit) => {
    const found = nestedBeyond(value, limit)
    return depthOf(value) > limit ? found !== undefined && found.message.includes(`level ${limit + 1}`) : found === undefined
  }), { numRuns: 2000 })
})
