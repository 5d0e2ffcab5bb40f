// What every bench suite shares: smoke mode, CPU pinning (load generator apart
// from the process under test), child processes that report over IPC, CPU time
// of any process read from /proc, and the suite's JSON result.
import { fork, execFileSync } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer } from 'node:net'

/** BENCH_SMOKE=1: a few hundred requests per step, seconds per suite — keeps the suites working in CI. */
export const SMOKE = process.env.BENCH_SMOKE === '1'

const TICK_US = 1e6 / Number(safe(() => execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(), '100'))

function safe (fn, fallback) {
  try { return fn() } catch { return fallback }
}

/** Whether the load generator and the process under test can run on separate CPUs. */
export const PIN = availableParallelism() >= 2 && safe(() => { execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }); return true }, false)
export const LOAD_CPU = 0
export const TARGET_CPU = 1

/** Pins the calling process (the load generator) to CPU 0 when pinning is possible. */
export function pinSelf () {
  if (PIN) execFileSync('taskset', ['-p', '-c', String(LOAD_CPU), String(process.pid)], { stdio: 'ignore' })
}

export function pinning () {
  return PIN ? `pinned: load generator and upstream on CPU ${LOAD_CPU}, process under test on CPU ${TARGET_CPU} (taskset)` : 'not pinned (fewer than 2 CPUs or no taskset)'
}

/** Forks a bench script (pinned to `cpu`) and resolves with its first IPC message plus `child`. */
export function startChild (file, args = [], cpu = TARGET_CPU, execArgv = []) {
  const path = file instanceof URL ? fileURLToPath(file) : file
  const child = PIN
    ? fork(path, args, { execPath: 'taskset', execArgv: ['-c', String(cpu), process.execPath, ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : fork(path, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', code => reject(new Error(`${path} exited with ${code}`)))
    child.once('message', msg => resolve({ child, ...msg }))
  })
}

/** Sends `message` and resolves with the reply's `key`. */
export function ask (child, message, key) {
  return new Promise(resolve => {
    const on = msg => { if (msg !== null && typeof msg === 'object' && key in msg) { child.off('message', on); resolve(msg[key]) } }
    child.on('message', on)
    child.send(message)
  })
}

export function stopChild (child) {
  return new Promise(resolve => {
    if (child.exitCode !== null) { resolve(); return }
    child.removeAllListeners('exit')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('exit', () => { clearTimeout(timer); resolve() })
    child.send('stop')
  })
}

/** User + system CPU time of a process in µs (all its threads), from /proc. */
export function cpuOfPid (pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[11] = utime, fields[12] = stime (fields 14 and 15 of proc(5), counted from state = 3)
  return (Number(fields[11]) + Number(fields[12])) * TICK_US
}

/** Resident set size of a process in MB, from /proc. */
export function rssOfPid (pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /VmRSS:\s+(\d+) kB/.exec(status)
  return match === null ? NaN : Number(match[1]) / 1024
}

export function freePort () {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

export function median (values) {
  const sorted = values.filter(v => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function environment () {
  return { node: process.version, cpus: availableParallelism(), loadAverage: loadavg().map(n => Math.round(n * 100) / 100), smoke: SMOKE, pinning: pinning() }
}

/** Writes the suite's result where bench/run.js asked (BENCH_OUT), and returns it. */
export function report (suite, result) {
  const out = { suite, at: new Date().toISOString(), environment: environment(), ...result }
  const file = process.env.BENCH_OUT
  if (file !== undefined && file !== '') {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, JSON.stringify(out, null, 2) + '\n')
  }
  return out
}

export const fmt = n => Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–'

/** Removes every key under `prefix` (a bench run's own random prefix) from the Redis at `url`. */
export async function dropRedisKeys (url, prefix) {
  const { Redis } = await import('ioredis')
  const redis = new Redis(url, { lazyConnect: true })
  await redis.connect()
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', prefix + '*', 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    await redis.quit()
  }
}
