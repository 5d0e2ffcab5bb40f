// CI smoke run of bench/audit: 5,000 records through every measured path
// (file store, and Redis when GOVEX_TEST_REDIS_URL or the default answers;
// NO_REDIS=1 skips it). Exits non-zero if a generated log fails to verify or a
// step throws. Run after `npx tsc -b`:  node bench/audit/smoke.js
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const bench = fileURLToPath(new URL('./index.js', import.meta.url))
const started = Date.now()
const run = spawnSync(process.execPath, [bench], { env: { ...process.env, SMOKE: '1', RECORDS: '5000' }, stdio: 'inherit' })
if (run.status !== 0) {
  console.error(`bench/audit smoke: failed (exit ${run.status ?? run.signal})`)
  process.exit(1)
}
console.log(`bench/audit smoke: ok in ${((Date.now() - started) / 1000).toFixed(1)} s`)
