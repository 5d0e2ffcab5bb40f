// Summarises a .cpuprofile (node --cpu-prof): self time by function and by
// package/file, so the top costs of the govex pipeline can be read without a GUI.
//   node bench/lib/profile-summary.js file.cpuprofile [top=25]
import { readFileSync } from 'node:fs'
import { selfTimes } from './profile.js'

const [file, topArg] = process.argv.slice(2)
const top = Number(topArg ?? 25)
const { total, byFunction, byPlace } = selfTimes(JSON.parse(readFileSync(file, 'utf8')))
const pct = us => (100 * us / total).toFixed(1).padStart(5) + '%'
console.log(`total sampled (not idle) ${(total / 1e6).toFixed(2)} s`)
console.log('\nself time by function:')
for (const [fn, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(us), fn)
console.log('\nself time by file / package:')
for (const [f, us] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(us), f)
