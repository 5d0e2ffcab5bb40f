// The provider for the benchmark: node:http answering every POST with the same
// 313-byte JSON `{ data }` (notes/performance.md's setup). Reports its port to
// the parent over IPC.
import { createServer } from 'node:http'

const data = {
  name: 'Zhang San',
  householdAddress: 'No. 12 Nanjing Road, Heping District, Tianjin',
  householdType: 'family-household',
  idNumber: '120101199001011234',
  birthDate: '1990-01-01',
  gender: 'male',
  relationToHead: 'head',
  registeredAt: '2010-05-04',
  note: 'x'.repeat(33)
}
const body = Buffer.from(JSON.stringify({ data }))

const server = createServer((req, res) => {
  req.on('data', () => {})
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
    res.end(body)
  })
})
server.keepAliveTimeout = 5000
server.listen(0, '127.0.0.1', () => {
  process.send({ ready: true, port: server.address().port, bytes: body.length })
})
process.on('message', msg => { if (msg === 'stop') server.close(() => process.exit(0)) })
