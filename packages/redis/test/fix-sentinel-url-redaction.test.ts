// A password written into a redis-sentinel:// URL without percent-encoding
// ('@', '/' or '#' in it) makes the URL malformed; the message that says so
// must not print any of the password (a redis:// URL never does: URL parsing
// redacts it or prints "(invalid url)").
import t from 'tap'
import { redactUrl, sentinelOptions } from '../src/connection.js'

t.test('fix-sentinel-url-redaction: no part of an unencoded password reaches the message', async t => {
  for (const secret of ['Hunter@Zq9', 'Hunter/Zq9', 'Hunter#Zq9', 'Hun:ter2@Zq/Wv9']) {
    const url = `redis-sentinel://ops:${secret}@h1:26379#main`
    t.throws(() => sentinelOptions(url), { code: 'GOVEX_ERR_BAD_REQUEST' }, url)
    let message = ''
    try { sentinelOptions(url) } catch (err) { message = (err as Error).message }
    for (const piece of secret.split(/[@/#:]/)) t.notOk(message.includes(piece), `${JSON.stringify(piece)} of the password is not in: ${message}`)
    t.notOk(redactUrl(url).includes(secret.split(/[@/#:]/).at(-1) as string), redactUrl(url))
  }
  t.equal(redactUrl('redis-sentinel://ops:secret@h1:26379#main'), 'redis-sentinel://ops:***@h1:26379#main')
  t.equal(redactUrl('redis-sentinel://h1:26379,h2:26380/2#main'), 'redis-sentinel://h1:26379,h2:26380/2#main', 'no password: unchanged')
})

t.test('fix-sentinel-url-redaction: a stray % in the password or master name is a coded refusal, not a URIError', async t => {
  for (const url of ['redis-sentinel://ops:Hunter%Zq9@h1:26379#main', 'redis-sentinel://h1:26379#ma%in', 'redis-sentinel://o%ps:pw@h1#main']) {
    t.throws(() => sentinelOptions(url), { code: 'GOVEX_ERR_BAD_REQUEST', message: /redis-sentinel:\/\/host:26379/ }, url)
    let message = ''
    try { sentinelOptions(url) } catch (err) { message = (err as Error).message }
    t.notOk(message.includes('Zq9'), message)
  }
})
