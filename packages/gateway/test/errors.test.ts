// The error codes: docs/errors.md and core's ERROR_CODES stay in step (both
// directions), each constructor carries its code and status, and mapError()
// turns whatever is thrown into a PROTOCOL.md code.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { ERROR_CODES, GovexError } from '@govex/core'
import type { ErrorCode } from '@govex/core'
import { errorBody, errorConstructor, httpError, mapError } from '../src/index.js'

const limits = { bodyBytes: 1024 }

t.test('docs/errors.md lists every code with its status, and only those', async t => {
  // the SDK's client-side codes have their own section, checked by the SDK's tests
  const doc = (await readFile(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8')).split('\n## Codes the SDK adds')[0]!
  const rows = new Map<string, number>()
  for (const match of doc.matchAll(/^\| `(GOVEX_ERR_[A-Z_]+)` \| (\d{3}) \|(.+)\|(.+)\|$/gm)) {
    t.notOk(rows.has(match[1]!), `${match[1]} documented once`)
    rows.set(match[1]!, Number(match[2]))
    t.ok(match[3]!.trim().length > 20 && match[4]!.trim().length > 10, `${match[1]} says when and what to do`)
  }
  for (const [code, status] of Object.entries(ERROR_CODES)) {
    t.equal(rows.get(code), status, `${code} documented with status ${status}`)
  }
  for (const code of rows.keys()) t.ok(code in ERROR_CODES, `${code} in the docs exists in ERROR_CODES`)
  const mentioned = new Set(doc.match(/GOVEX_ERR_[A-Z_]+/g))
  for (const code of mentioned) t.ok(code in ERROR_CODES, `${code} mentioned in the docs exists`)
})

t.test('constructors carry code and status', async t => {
  for (const [code, status] of Object.entries(ERROR_CODES) as Array<[ErrorCode, number]>) {
    const err = httpError(code, 'what to do')
    t.equal(err.code, code)
    t.equal(err.statusCode, status)
    t.equal(err.message, 'what to do')
    t.ok(err instanceof errorConstructor(code))
    const mapped = mapError(err, limits)
    t.equal(mapped.code, code)
    t.equal(mapped.status, status)
  }
})

t.test('mapError', async t => {
  t.match(mapError(new GovexError('GOVEX_ERR_CONFLICT', 'x'), limits), { status: 409, code: 'GOVEX_ERR_CONFLICT', internal: false })
  t.match(mapError(Object.assign(new Error('v'), { validation: [{ keyword: 'required', instancePath: '', schemaPath: '#/required', params: { missingProperty: 'id' }, message: 'x' }], validationContext: 'body' }), limits),
    { status: 400, code: 'GOVEX_ERR_BAD_REQUEST', problems: [{ code: 'required', path: '/id' }] })
  t.match(mapError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), limits), { status: 413, code: 'GOVEX_ERR_TOO_LARGE', message: /1024 bytes/ })
  t.match(mapError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }), limits), { status: 415, code: 'GOVEX_ERR_UNSUPPORTED_MEDIA_TYPE' })
  t.match(mapError(Object.assign(new Error('x'), { code: 'FST_JWT_NO_AUTHORIZATION_IN_HEADER', statusCode: 401 }), limits), { status: 401, code: 'GOVEX_ERR_UNAUTHENTICATED' })
  t.match(mapError(Object.assign(new SyntaxError('Unexpected end'), { statusCode: 400 }), limits), { status: 400, problems: [{ code: 'json' }] })
  t.match(mapError(Object.assign(new Error('x'), { statusCode: 404 }), limits), { status: 404, code: 'GOVEX_ERR_NOT_FOUND' })
  t.match(mapError(Object.assign(new Error('x'), { statusCode: 400 }), limits), { status: 400, code: 'GOVEX_ERR_BAD_REQUEST' })
  t.match(mapError(new TypeError('secret internals'), limits), { status: 503, code: 'GOVEX_ERR_UNAVAILABLE', internal: true, message: /try again/ })
  t.match(mapError(undefined, limits), { status: 503 })
  const body = errorBody(mapError(httpError('GOVEX_ERR_BAD_SIGNATURE', 'no'), limits), 'id-1')
  t.same(body, { statusCode: 422, code: 'GOVEX_ERR_BAD_SIGNATURE', error: 'Unprocessable Entity', message: 'no', requestId: 'id-1', problems: [{ code: 'bad-signature', path: '', message: 'no' }] })
  t.notOk('problems' in errorBody(mapError(httpError('GOVEX_ERR_NO_GRANT', 'no'), limits), 'x'), 'problems only for 400 and 422')
})
