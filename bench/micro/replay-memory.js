// Memory and CPU of the file store's replay guard per held envelope id, next
// to the baseline it replaced (a Map from the id string to its expiry), in the
// same run. Needs --expose-gc; bench/micro/index.js runs it as a child and
// prints its JSON line. Alone: node --expose-gc bench/micro/replay-memory.js [ids]
import { randomUUID } from 'node:crypto'
import { MemoryReplayGuard } from '../../packages/core/dist/index.js'

const N = Number(process.argv[2] ?? 1_000_000)
const WINDOW_S = 86_400

async function settle () {
  globalThis.gc()
  await new Promise(resolve => setTimeout(resolve, 50))
  globalThis.gc()
}

/** bytes of heap + array buffers per id held, and CPU µs per admission (look up, then hold) */
async function measure (admit) {
  await settle()
  const before = process.memoryUsage()
  // ids as the gateway holds them: flat strings (JSON.parse, then toLowerCase)
  const ids = Array.from({ length: 1000 }, () => randomUUID())
  const cpu = process.cpuUsage()
  let held
  for (let i = 0; i < N; i++) held = admit(ids[i % 1000].slice(0, 30) + String(i).padStart(6, '0'))
  const used = process.cpuUsage(cpu)
  await settle()
  const after = process.memoryUsage()
  return {
    bytesPerId: (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / N,
    cpuUsPerAdmission: (used.user + used.system) / N,
    held
  }
}

const results = {}
{
  const map = new Map()
  const now = Date.now()
  results.map = await measure(id => {
    const key = id.toLowerCase()
    if ((map.get(key) ?? 0) > now) return -1
    map.set(key, now + WINDOW_S * 1000)
    return map.size
  })
}
{
  const guard = new MemoryReplayGuard()
  results.guard = await measure(id => {
    const key = id.toLowerCase()
    if (guard.isHeld(key)) return -1
    guard.claimNow(key, WINDOW_S)
    return guard.size
  })
}
console.log(JSON.stringify({ ids: N, ...results }))
