// What the forwarders under test share: CPU accounting the parent reads over
// IPC (utime + stime of the whole process, so worker threads count too), and
// the bare undici forward.
export function serveCpuAccounting () {
  let mark = process.cpuUsage()
  process.on('message', msg => {
    if (msg === 'cpu-mark') {
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
