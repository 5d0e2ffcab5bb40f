// What both forwarders under test share: CPU accounting the parent reads over
// IPC (utime + stime of the whole process, so worker threads count too).
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
