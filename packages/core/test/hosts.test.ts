import t from 'tap'
import { isHostAllowed, hostRefusal, allowHostsProblems } from '../src/hosts.js'

t.test('schemes: only http and https, whatever the allow-list', async t => {
  t.ok(isHostAllowed('http://example.com/x', undefined))
  t.ok(isHostAllowed('HTTPS://example.com/x', undefined))
  for (const url of ['ftp://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'gopher://127.0.0.1:6379/_', 'data:text/plain,x']) {
    t.notOk(isHostAllowed(url, undefined), url)
    t.notOk(isHostAllowed(url, ['example.com', '127.0.0.1']), url)
  }
  t.notOk(isHostAllowed('not a url', undefined))
  t.notOk(isHostAllowed('', []))
})

t.test('hostnames: exact, case-insensitive, trailing dot ignored', async t => {
  const allow = ['api.psb.tj.gov.cn', 'Upstream.Local.']
  t.ok(isHostAllowed('https://api.psb.tj.gov.cn/household', allow))
  t.ok(isHostAllowed('https://API.PSB.tj.gov.cn:8443/household', allow))
  t.ok(isHostAllowed('http://api.psb.tj.gov.cn./x', allow))
  t.ok(isHostAllowed('http://upstream.local/x', allow))
  t.notOk(isHostAllowed('https://evil.api.psb.tj.gov.cn/', allow), 'no implicit subdomains')
  t.notOk(isHostAllowed('https://psb.tj.gov.cn/', allow), 'no parent domains')
  t.notOk(isHostAllowed('https://api.psb.tj.gov.cn.evil.com/', allow))
  t.notOk(isHostAllowed('https://api.psb.tj.gov.cn@evil.com/', allow), 'userinfo does not fool the check')
  t.notOk(isHostAllowed('https://example.com/', []), 'an empty list allows nothing')
})

t.test('IPv4: addresses and CIDRs, including obfuscated forms', async t => {
  const allow = ['10.0.0.0/8', '192.168.1.5']
  t.ok(isHostAllowed('http://10.1.2.3:4001/x', allow))
  t.ok(isHostAllowed('http://192.168.1.5/x', allow))
  t.notOk(isHostAllowed('http://192.168.1.6/x', allow))
  t.notOk(isHostAllowed('http://11.0.0.1/x', allow))
  t.notOk(isHostAllowed('http://127.0.0.1/x', allow))
  t.notOk(isHostAllowed('http://0x7f.1/x', allow), '0x7f.1 is 127.0.0.1')
  t.ok(isHostAllowed('http://0x0a.1/x', allow), '0x0a.1 is 10.0.0.1')
  t.notOk(isHostAllowed('http://localhost/x', allow), 'a name is not matched against CIDRs')
  t.ok(isHostAllowed('http://127.0.0.1:4001/x', ['127.0.0.1/32']))
  t.ok(isHostAllowed('http://8.8.8.8/', ['0.0.0.0/0']))
})

t.test('IPv6: addresses, CIDRs, mapped IPv4', async t => {
  const allow = ['::1', 'fd00::/8', '[2001:db8::5]']
  t.ok(isHostAllowed('http://[::1]:4001/x', allow))
  t.ok(isHostAllowed('http://[fd12:3456::1]/x', allow))
  t.ok(isHostAllowed('http://[2001:db8::5]/x', allow))
  t.notOk(isHostAllowed('http://[2001:db8::6]/x', allow))
  t.notOk(isHostAllowed('http://[fe80::1]/x', allow))
  t.notOk(isHostAllowed('http://127.0.0.1/x', allow))
  t.ok(isHostAllowed('http://[::ffff:10.0.0.7]/x', ['10.0.0.0/8']), 'an IPv4-mapped address is that IPv4 address')
  t.notOk(isHostAllowed('http://[::ffff:127.0.0.1]/x', ['10.0.0.0/8']))
})

t.test('unusable entries allow nothing and are reported', async t => {
  const allow = ['http://example.com', 'example.com:8080', '10.0.0.0/33', 'not-ip/8', 'fd00::/129', '10.0.0.0/x', '', 'ok.example.com']
  t.notOk(isHostAllowed('http://example.com/', allow))
  t.notOk(isHostAllowed('http://10.0.0.1/', allow))
  t.ok(isHostAllowed('http://ok.example.com/', allow))
  const problems = allowHostsProblems(allow, '/upstream/allowHosts')
  t.same(problems.map(p => p.path), [0, 1, 2, 3, 4, 5, 6].map(i => '/upstream/allowHosts/' + i))
  t.ok(problems.every(p => p.code === 'invalid-host'))
  t.match(problems[2]?.message, /0 to 32/)
  t.match(problems[4]?.message, /0 to 128/)
  t.match(problems[3]?.message, /not an IP address/)
  t.match(problems[0]?.message, /hostname/)
  t.same(allowHostsProblems(['a.b', '10.0.0.0/8', '::1', '[::1]', 'fd00::/8']), [])
  t.equal(allowHostsProblems(['x y'])[0]?.path, '/0')
})

t.test('the compiled list is reused for the same array', async t => {
  const allow = ['a.example']
  t.ok(isHostAllowed('http://a.example/', allow))
  t.ok(isHostAllowed('http://a.example/', allow))
  t.notOk(isHostAllowed('http://b.example/', allow))
})

t.test('hostRefusal says why isHostAllowed refuses, naming the host and never the rest of the URL', async t => {
  const allow = ['localhost', '10.0.0.0/8']
  t.equal(hostRefusal('http://localhost:4001/x', allow), undefined)
  t.equal(hostRefusal('http://10.1.2.3/x', allow), undefined)
  t.equal(hostRefusal('http://anything.example/x', undefined), undefined, 'no list: any host')
  t.equal(hostRefusal('not a url', allow), 'it is not a valid URL')
  t.equal(hostRefusal('ftp://localhost/x', undefined), 'its scheme ftp: is neither http: nor https:', 'the scheme is checked without a list too')
  const refused = hostRefusal('http://user:pw@192.168.1.9:8080/household?idNumber=1', allow)
  t.match(refused, /^its host 192\.168\.1\.9 is not in upstream\.allowHosts/)
  t.notMatch(refused, /household|idNumber|user|pw|8080/, 'only the host')
  t.match(hostRefusal('http://[::1]/x', allow), /^its host \[::1\] is not in upstream\.allowHosts/)
  for (const url of ['http://localhost/x', 'http://10.1.2.3/', 'http://192.168.1.9/', 'nope', 'ftp://localhost/']) {
    t.equal(isHostAllowed(url, allow), hostRefusal(url, allow) === undefined, `${url}: one decision`)
  }
})
