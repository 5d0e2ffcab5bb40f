// `pnpm test:stress`: the long versions of the reliability tests — ≥ 100,000
// generated bad inputs, the authorization property over many random worlds,
// every provider fault many times, repeated Redis outages and SIGKILLs, and a
// 60 s soak with slowloris clients — run one file at a time through tap with
// GOVEX_STRESS=1, then one summary: cases tried, faults injected, requests
// sent, audit records found, records lost (must be 0), 5xx seen, peak RSS.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const FILES = [
  'test/fuzz-inputs.test.ts',
  'test/authorization-property.test.ts',
  'test/security.test.ts',
  'test/faults-provider.test.ts',
  'test/faults-redis.test.ts',
  'test/faults-sigkill.test.ts',
  'test/soak.test.ts'
]

const dir = mkdtempSync(join(tmpdir(), 'govex-stress-'))
const reportFile = join(dir, 'report.ndjson')
const env = { ...process.env, GOVEX_STRESS: '1', GOVEX_STRESS_REPORT: reportFile }
const tapBin = join(ROOT, 'node_modules/tap/dist/esm/run.mjs')

function run (file) {
  return new Promise(resolve => {
    const started = Date.now()
    // On a terminal, tap's live reporter; in a log, only failures and each file's counts.
    const tty = process.stdout.isTTY === true
    const child = spawn(process.execPath, [tapBin, '--timeout=1800', tty ? '--reporter=terse' : '--reporter=tap', file], { cwd: ROOT, env, stdio: tty ? 'inherit' : ['ignore', 'pipe', 'pipe'] })
    if (!tty) {
      let rest = ''
      const filter = chunk => {
        const lines = (rest + chunk.toString()).split('\n')
        rest = lines.pop() ?? ''
        for (const line of lines) if (/not ok|^# \{|message:|Counterexample|found:|wanted:|SKIP/.test(line)) console.log(line)
      }
      child.stdout.on('data', filter)
      child.stderr.on('data', filter)
    }
    child.on('exit', code => resolve({ file, ok: code === 0, seconds: Math.round((Date.now() - started) / 1000) }))
  })
}

if (!existsSync(tapBin)) {
  console.error(`tap is not installed at ${tapBin}: run pnpm install`)
  process.exit(1)
}

const results = []
for (const file of FILES) {
  console.log(`\n=== ${file} (stress) ===`)
  results.push(await run(file))
}

const lines = existsSync(reportFile) ? readFileSync(reportFile, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l)) : []
rmSync(dir, { recursive: true, force: true })
const sum = key => lines.reduce((a, l) => a + (typeof l[key] === 'number' ? l[key] : 0), 0)
const fuzzTotal = lines.find(l => l.name === 'fuzz total')
const cases = (fuzzTotal?.cases ?? 0) + lines.filter(l => l.name === 'authorization property').reduce((a, l) => a + l.cases, 0)
const faultCaused5xx = lines.filter(l => l.name === 'redis outage' || l.name === 'provider faults').reduce((a, l) => a + (l.fiveXX ?? l.faults ?? 0), 0)
const unexpected5xx = lines.filter(l => l.name.startsWith('soak')).reduce((a, l) => a + (l.fiveXX ?? 0), 0)
const peakRss = Math.max(0, ...lines.map(l => l.peakRssMb ?? 0))

console.log('\n=== govex stress summary ===')
for (const l of lines) console.log('  ' + JSON.stringify(l))
console.log('')
const summary = {
  'cases tried': cases,
  'faults injected': sum('faults'),
  'requests sent': sum('requests'),
  'audit records found': sum('auditRecords'),
  'records lost': sum('lost'),
  '5xx seen (fault-caused)': faultCaused5xx,
  '5xx seen (unexpected)': unexpected5xx,
  'peak gateway RSS (MiB)': peakRss
}
for (const [k, v] of Object.entries(summary)) console.log(`  ${k.padEnd(28)} ${v}`)
for (const r of results) console.log(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.file} (${r.seconds} s)`)
const failed = results.some(r => !r.ok) || summary['records lost'] !== 0 || unexpected5xx !== 0 || cases < 100_000
if (cases < 100_000) console.log(`  fewer than 100,000 cases were tried (${cases})`)
process.exit(failed ? 1 : 0)
