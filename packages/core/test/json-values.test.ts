// unrepresentable(): JSON that parses but that canonical JSON (and so no digest
// or audit record) can hold — a lone UTF-16 surrogate or a number beyond a
// double — found with a JSON Pointer to where it is.
import t from 'tap'
import fc from 'fast-check'
import { canonicalJson, isWellFormedText, toWellFormedText, unrepresentable } from '../src/index.js'

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

t.test('well-formed text helpers', async t => {
  t.equal(isWellFormedText('a\ud83d\ude00'), true)
  t.equal(isWellFormedText('a\ud800'), false)
  t.equal(toWellFormedText('a\ud800b'), 'a\ufffdb')
})
