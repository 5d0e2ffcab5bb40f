// The public portal: disclosure catalogs without authentication, JSON or an
// escaped HTML page, ETag + cache-control, 304 on If-None-Match.
import t from 'tap'
import { harness, expectOk } from './helpers/gateway.js'
import { disclosure } from './helpers/deployment.js'

t.test('disclosures, JSON and HTML', async t => {
  const h = await harness(t, { activate: false })
  const list = await h.app.inject({ method: 'GET', url: '/public/disclosures' })
  t.equal(list.statusCode, 200)
  t.same(list.json(), { disclosures: [disclosure('tj.psb')] })
  t.ok(list.headers.etag)

  const json = await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.psb' })
  t.equal(json.statusCode, 200)
  t.same(json.json(), disclosure('tj.psb'))
  const etag = json.headers.etag as string
  t.match(etag, /^"[A-Za-z0-9_-]+"$/)
  t.match(json.headers['cache-control'], /max-age=/)
  t.match(json.headers['x-request-id'], /^[0-9a-f-]{36}$/)

  const again = await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.psb', headers: { 'if-none-match': etag } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')
  t.equal((await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.psb', headers: { 'if-none-match': `"x", W/${etag}` } })).statusCode, 304, 'a list, weak form')
  t.equal((await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.psb', headers: { 'if-none-match': '"other"' } })).statusCode, 200)

  const html = await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.psb', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
  t.equal(html.statusCode, 200)
  t.match(html.headers['content-type'], /^text\/html/)
  t.not(html.headers.etag, etag, 'each representation has its own ETag')
  t.match(html.body, /<h1>Disclosure catalog of tj\.psb<\/h1>/)
  t.match(html.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'titles escaped')
  t.notMatch(html.body, /<script>/)
  t.match(html.body, /Who we are &amp; what we do/)
  t.match(html.body, /href="https:\/\/example\.gov\/about"/)
  t.match(html.body, /Functions and contacts[\s\S]*Licensing matters/, 'categories in the order of Art. 14')
  t.equal((await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.psb', headers: { accept: 'text/html', 'if-none-match': html.headers.etag as string } })).statusCode, 304)

  // Accept as RFC 9110 reads it: q-values and the most specific range decide; a tie goes to the first named.
  const representations: Array<[string | undefined, 'html' | 'json']> = [
    [undefined, 'json'], ['*/*', 'json'], ['text/html', 'html'], ['text/*', 'html'], ['application/json', 'json'],
    ['application/json, text/html', 'json'], ['text/html, application/json', 'html'],
    ['application/json;q=0.5, text/html', 'html'], ['text/html;q=0.4, application/json;q=0.9', 'json'],
    ['text/html;q=0, */*', 'json'], ['TEXT/HTML; Q=0.9, */*;q=0.1', 'html'], ['*/*;q=0.9, application/json;q=0.1', 'html']
  ]
  for (const [accept, want] of representations) {
    const res = await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.psb', headers: accept === undefined ? {} : { accept } })
    t.match(res.headers['content-type'], want === 'html' ? /^text\/html/ : /^application\/json/, `Accept: ${accept ?? '(none)'}`)
  }

  const missing = await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.mca' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'GOVEX_ERR_NOT_FOUND')
  t.equal((await h.app.inject({ method: 'GET', url: '/public/disclosures/NOPE!' })).statusCode, 400)

  // A new catalog is live at once, with a new ETag.
  const changed = { ...disclosure('tj.psb'), entries: [{ category: 'emergencies', title: 'Flood warning', publishedAt: '2026-07-01' }] }
  expectOk(await h.app.inject({ method: 'PUT', url: '/v1/disclosures/tj.psb', headers: h.actors.psb.auth(), payload: changed }))
  const fresh = await h.app.inject({ method: 'GET', url: '/public/disclosures/tj.psb', headers: { 'if-none-match': etag } })
  t.equal(fresh.statusCode, 200)
  t.same(fresh.json(), changed)
})
