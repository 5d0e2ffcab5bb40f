// Turns bench/results/latest.json into the Markdown of docs/performance.md and
// a bar chart of the exchange suite as a hand-written SVG.
const fmt = n => Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–'
const fix = (n, d = 2) => Number.isFinite(n) ? n.toFixed(d) : '–'
const verdict = ok => typeof ok === 'string' ? ok : ok === null ? 'not measured' : ok ? '**met**' : '**missed**'

export function goals (out) {
  const ex = out.suites.exchange?.targets
  const govex = ex?.find(t => t.id === 'govex-file')
  const bare = ex?.find(t => t.id === 'bare')
  const floor = ex?.find(t => t.id === 'floor')
  const auth = out.suites.authorize?.plans?.find(p => p.grants >= 100_000)
  const act = out.suites.scale?.activation
  const rss = out.suites.scale?.rss
  const decisions = auth?.decisionsPerSecond?.['same traffic, allowed']
  return [
    { goal: 'govex full pipeline ≥ 0.6× the bare forwarder\'s req/s', value: govex && bare ? `${fix(govex.rps / bare.rps)}×` : '–', ok: govex && bare ? govex.rps / bare.rps >= 0.6 : null },
    { goal: 'for reference: the protocol\'s floor (i) ≥ 0.6× the bare forwarder\'s req/s (in brackets: by CPU µs/req)', value: floor && bare ? `${fix(floor.rps / bare.rps)}× (${fix(bare.cpuPerReq / floor.cpuPerReq)}×)` : '–', ok: floor && bare ? (floor.rps / bare.rps >= 0.6 ? 'the floor reaches 0.6×' : 'the floor itself is below 0.6×') : null },
    { goal: 'for reference: govex\'s req/s next to the floor\'s (in brackets: by CPU µs/req)', value: govex && floor ? `${fix(govex.rps / floor.rps)}× (${fix(floor.cpuPerReq / govex.cpuPerReq)}×)` : '–', ok: govex && floor ? 'what govex adds to the floor' : null },
    { goal: 'govex p99 ≤ bare p99 + 1 ms at the fixed rate', value: govex && bare ? `${govex.fixedP99} vs ${bare.fixedP99} ms` : '–', ok: govex && bare ? govex.fixedP99 <= bare.fixedP99 + 1 : null },
    { goal: 'authorize() ≥ 1,000,000 decisions/s at 100,000 grants', value: decisions ? `${fmt(decisions)}/s` : '–', ok: decisions ? decisions >= 1e6 : null },
    { goal: 'activation of 100,000 grants < 1 s', value: act ? `${fmt(act.steps.activate?.ms)} ms (${fmt(act.grants)} grants)` : '–', ok: act && act.grants >= 100_000 ? act.steps.activate.ms < 1000 : null },
    { goal: 'gateway RSS does not grow with exchanges', value: rss ? `${fix(rss.slopeMbPer100k)} MB / 100k exchanges` : '–', ok: rss ? rss.slopeMbPer100k < 1 : null }
  ]
}

export function renderMarkdown (out) {
  const lines = []
  const m = out.machine
  lines.push(`Measured at commit \`${out.commit ?? 'unknown'}\`${out.dirty ? ' (with uncommitted changes)' : ''} on ${out.at.slice(0, 10)}: ${m.cpus} × ${m.cpu}, ${m.memoryGb} GB, Node ${m.node}; load average ${m.loadAverageAtStart.join(' / ')} at start, ${out.loadAverageAtEnd?.join(' / ')} at the end (the machine is shared).`)
  lines.push('')
  lines.push('### Goals')
  lines.push('')
  lines.push('| goal | measured | |')
  lines.push('|---|---:|---|')
  for (const g of goals(out)) lines.push(`| ${g.goal} | ${g.value} | ${verdict(g.ok)} |`)
  const ex = out.suites.exchange
  if (ex !== undefined) {
    lines.push('')
    lines.push('### Exchange')
    lines.push('')
    lines.push(`${ex.environment.pinning}. autocannon, ${ex.method.connections} connections, ${ex.method.durationS ?? '–'} s per run, ${ex.method.rounds} interleaved rounds (req/s and CPU: median of rounds); latency at a fixed ${fmt(ex.method.fixedRate)} req/s (half the direct maximum). Request body ${ex.method.requestBodyBytes} B, upstream answer ${ex.method.upstreamAnswerBytes} B. Commit \`${ex.commit?.slice(0, 12)}\`.`)
    lines.push('')
    lines.push('![exchange throughput and CPU per request](performance.svg)')
    lines.push('')
    lines.push('| target | req/s | rounds | × bare | × direct | CPU µs/req | p50 ms @ fixed | p99 ms @ fixed | CPU µs/req @ fixed |')
    lines.push('|---|---:|---|---:|---:|---:|---:|---:|---:|')
    for (const t of ex.targets) lines.push(`| ${t.label} | ${fmt(t.rps)} | ${t.rpsRounds.map(fmt).join(', ')} | ${fix(t.vsBare)} | ${fix(t.vsDirect)} | ${fmt(t.cpuPerReq)} | ${t.fixedP50} | ${t.fixedP99} | ${fmt(t.fixedCpuPerReq)} |`)
  }
  const micro = out.suites.micro
  if (micro !== undefined) {
    lines.push('')
    lines.push('### Single steps')
    lines.push('')
    lines.push(`CPU time in one process, median of interleaved rounds. Commit \`${micro.commit?.slice(0, 12)}\`.`)
    lines.push('')
    lines.push('| step | µs | per second |')
    lines.push('|---|---:|---:|')
    for (const [name, s] of Object.entries(micro.steps)) lines.push(`| ${name} | ${fix(s.us)} | ${fmt(s.perSecond)} |`)
    for (const [kind, a] of Object.entries(micro.appends ?? {})) lines.push(`| audit append, ${kind.includes('store') ? kind : kind + ' store'}, 64 concurrent appenders (durable) | ${fix(a.cpuUs)} CPU | ${fmt(a.perSecond)} |`)
    const r = micro.replay
    if (r !== undefined) {
      lines.push('')
      lines.push(`Replay guard of the file store, ${fmt(r.ids)} envelope ids held (bench/micro/replay-memory.js): **${fix(r.guard.bytesPerId, 1)} bytes** and ${fix(r.guard.cpuUsPerAdmission)} µs per admission (look up + hold, with the id's lowercasing), against ${fix(r.map.bytesPerId, 1)} bytes and ${fix(r.map.cpuUsPerAdmission)} µs for the \`Map<string, expiry>\` it replaced, same run.`)
    }
  }
  const auth = out.suites.authorize
  if (auth !== undefined) {
    lines.push('')
    lines.push('### authorize()')
    lines.push('')
    lines.push(`Decisions per CPU second, best of interleaved rounds, ${fmt(auth.resources)} resources in the catalog (bench/authorize). "Spread" traffic touches 8,192 different grants, so it measures cache misses as well. Commit \`${auth.commit?.slice(0, 12)}\`.`)
    lines.push('')
    const names = Object.keys(auth.plans[0].decisionsPerSecond)
    lines.push(`| grants | ${names.join(' | ')} | createPlanState ms | buildPlanIndex ms | index heap MB |`)
    lines.push(`|---:|${names.map(() => '---:').join('|')}|---:|---:|---:|`)
    for (const p of auth.plans) lines.push(`| ${fmt(p.grants)} | ${names.map(n => fmt(p.decisionsPerSecond[n])).join(' | ')} | ${fmt(p.createPlanStateMs)} | ${fmt(p.buildIndexMs)} | ${fix(p.heapMb, 1)} |`)
  }
  const scale = out.suites.scale
  if (scale !== undefined) {
    const a = scale.activation
    lines.push('')
    lines.push('### Scale')
    lines.push('')
    lines.push(`A plan of ${fmt(a.grants)} grants (${fix(a.planBytes / 1e6, 1)} MB) over ${fmt(a.resources)} resources through the API, file store, in one process (inject). Commit \`${scale.commit?.slice(0, 12)}\`.`)
    lines.push('')
    lines.push('| step | wall ms | CPU ms | longest event-loop stall ms | RSS MB | heap MB |')
    lines.push('|---|---:|---:|---:|---:|---:|')
    for (const [name, s] of Object.entries(a.steps)) lines.push(`| ${name} | ${fmt(s.ms)} | ${fmt(s.cpuMs)} | ${fmt(s.maxStallMs)} | ${fmt(s.rssMb)} | ${fmt(s.heapMb)} |`)
    const r = scale.rss
    if (r !== null) {
      const window = r.replayWindowS === undefined ? 'the default 24 h replay window' : `a replay window of ${fmt(r.replayWindowS)} s`
      lines.push('', `Gateway RSS over ${fmt(r.exchanges)} exchanges with ${window} (${fmt(r.seconds)} s, ${fmt(r.cpuPerReq)} CPU µs/req): start ${fmt(r.rssStartMb)} MB, half-way ${fmt(r.rssMidMb)} MB, end ${fmt(r.rssEndMb)} MB, max ${fmt(r.rssMaxMb)} MB; least-squares slope over the second half **${fix(r.slopeMbPer100k)} MB per 100,000 exchanges**.`)
      if (r.retained !== undefined) lines.push('', `Retained after full collections (heap + array buffers, --expose-gc, every 50,000 exchanges): ${r.retained.map(x => fix(x.mb, 1)).join(' → ')} MB, **${fmt(r.retainedBytesPerExchange)} bytes per exchange** over the second half — what the gateway keeps per exchange once the window has turned over. The replay guard holds each envelope id for its window by design; with the default 24 h window that is bench/micro's bytes per id (above) times the day's exchanges. The audit log's query index (~180 B a record, bench/audit-append) is built only when an auditor first queries, so it is not in this run.`)
    }
  }
  return lines.join('\n')
}

const esc = s => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Two bar charts side by side: req/s (longer is better) and CPU µs per request (shorter is better). */
export function renderSvg (exchange) {
  const rows = exchange.targets
  const labelW = 330
  const barW = 260
  const gap = 60
  const rowH = 26
  const top = 48
  const width = labelW + 2 * barW + gap + 90
  const height = top + rows.length * rowH + 30
  const maxRps = Math.max(...rows.map(r => r.rps))
  const maxCpu = Math.max(...rows.map(r => r.cpuPerReq))
  const colour = id => id.startsWith('govex') ? '#2b6cb0' : id === 'direct' ? '#718096' : '#a0aec0'
  const parts = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`)
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  parts.push(`<text x="${labelW}" y="20" font-weight="bold">requests/s (more is better)</text>`)
  parts.push(`<text x="${labelW + barW + gap}" y="20" font-weight="bold">CPU µs per request (less is better)</text>`)
  parts.push(`<text x="10" y="38" fill="#4a5568">commit ${esc(exchange.commit?.slice(0, 12) ?? '')}, ${esc(exchange.environment.node)}, ${exchange.environment.cpus} CPUs</text>`)
  rows.forEach((r, i) => {
    const y = top + i * rowH
    const w1 = Math.max(1, barW * r.rps / maxRps)
    const w2 = Math.max(1, barW * r.cpuPerReq / maxCpu)
    parts.push(`<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(r.label)}</text>`)
    parts.push(`<rect x="${labelW}" y="${y + 3}" width="${w1.toFixed(1)}" height="${rowH - 8}" fill="${colour(r.id)}"/>`)
    parts.push(`<text x="${labelW + w1 + 4}" y="${y + 15}">${fmt(r.rps)}</text>`)
    const x2 = labelW + barW + gap
    parts.push(`<rect x="${x2}" y="${y + 3}" width="${w2.toFixed(1)}" height="${rowH - 8}" fill="${colour(r.id)}"/>`)
    parts.push(`<text x="${x2 + w2 + 4}" y="${y + 15}">${fmt(r.cpuPerReq)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}
