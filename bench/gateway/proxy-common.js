// What the forwarders under test share: CPU accounting the parent reads over
// IPC (utime + stime of the whole process, so worker threads count too), a
// CPU profile of a chosen window (bench/gateway/profile.js), and the bare
// undici forward.
import { Session } from 'node:inspector/promises'

export function serveCpuAccounting () {
  let mark = process.cpuUsage()
  let session = null
  process.on('message', async msg => {
    if (msg === 'profile-start') {
      session = new Session()
      session.connect()
      await session.post('Profiler.enable')
      await session.post('Profiler.setSamplingInterval', { interval: 50 })
      await session.post('Profiler.start')
      process.send({ profiling: true })
    } else if (msg === 'profile-stop') {
      const { profile } = await session.post('Profiler.stop')
      session.disconnect()
      session = null
      process.send({ profile })
    } else if (msg === 'cpu-mark') {
      mark = process.cpuUsage()
      process.send({ cpuMarked: true })
    } else if (msg === 'cpu-read') {
      const used = process.cpuUsage(mark)
      process.send({ usage: { user: used.user, system: used.system } })
    }
  })
}

/** POSTs `body` to the upstream's /household with Pool.dispatch; resolves with its status and bytes. */
export function forward (pool, body) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let status = 0
    pool.dispatch({ path: '/household', method: 'POST', headers: ['content-type', 'application/json'], body }, {
      onConnect () {},
      onHeaders (s) { status = s; return true },
      onData (chunk) { chunks.push(chunk); return true },
      onComplete () { resolve({ status, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }) },
      onError: reject
    })
  })
}
