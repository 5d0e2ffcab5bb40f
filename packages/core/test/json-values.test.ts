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
  fc.assert(fc.property(
    fc.boolean(), fc.stringMatching(/^[1-9][0-9]{0,5}$/), fc.stringMatching(/^([.][0-9]{1,5})?$/), fc.constantFrom('e', 'E', 'e+', 'E+'), fc.integer({ min: 309, max: 5000 }), fc.nat(3),
    (negative, int, frac, e, exponent, zeros) => {
      const number = (negative ? '-' : '') + int + frac + e + '0'.repeat(zeros) + String(exponent)
      const text = `{"id":"0193a1c2-7c1e-7a35-9b7e-2a8c7c8b5e10","n":${number}}`
      return Number.isFinite(JSON.parse(text).n) || check(text)?.path === '/n'
    }
  ))
})

t.test('well-formed text helpers', async t => {
  t.equal(isWellFormedText('a\ud83d\ude00'), true)
  t.equal(isWellFormedText('a\ud800'), false)
  t.equal(toWellFormedText('a\ud800b'), 'a\ufffdb')
})
