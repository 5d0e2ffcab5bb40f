// Summarises a .cpuprofile (node --cpu-prof): self time by function and by
// package/file, so the top costs of the govex pipeline can be read without a GUI.
//   node bench/lib/profile-summary.js file.cpuprofile [top=25]
import { readFileSync } from 'node:fs'

const [file, topArg] = process.argv.slice(2)
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map(n => [n.id, n]))
const self = new Map()
const dt = profile.timeDeltas
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0))
}
const total = [...self.values()].reduce((a, b) => a + b, 0)
const fnTotals = new Map()
const fileTotals = new Map()
for (const [id, us] of self) {
  const { callFrame: f } = byId.get(id)
  const where = f.url.replace(/^file:\/\//, '').replace(/.*node_modules\/\.pnpm\/([^/]+)\/.*/, '$1').replace(/.*\/packages\//, 'packages/')
  const fn = `${f.functionName || '(anon)'} ${where}:${f.lineNumber + 1}`
  fnTotals.set(fn, (fnTotals.get(fn) ?? 0) + us)
  const group = where === '' ? `(${f.functionName})` : where
  fileTotals.set(group, (fileTotals.get(group) ?? 0) + us)
}
const pct = us => (100 * us / total).toFixed(1).padStart(5) + '%'
console.log(`total sampled ${(total / 1e6).toFixed(2)} s`)
console.log('\nself time by function:')
for (const [fn, us] of [...fnTotals].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(us), fn)
console.log('\nself time by file / package:')
for (const [f, us] of [...fileTotals].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(us), f)
