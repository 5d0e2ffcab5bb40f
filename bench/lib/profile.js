// Self time of a V8 CPU profile (.cpuprofile / Profiler.stop), by function and
// by package or file, so a profile can be read (and two compared) without a GUI.

/** Where a frame's code lives: a package@version, packages/<x>/dist/<file>, node:<module>, or '(name)' for V8's own. */
function placeOf (frame) {
  return frame.url.replace(/^file:\/\//, '').replace(/.*node_modules\/\.pnpm\/([^/]+)\/.*/, '$1').replace(/.*\/packages\//, 'packages/')
}

/** { total, byFunction: Map<label, µs>, byPlace: Map<label, µs> } of self time; idle excluded from total. */
export function selfTimes (profile) {
  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const self = new Map()
  const dt = profile.timeDeltas
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]
    self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0))
  }
  const byFunction = new Map()
  const byPlace = new Map()
  let total = 0
  for (const [id, us] of self) {
    const { callFrame: f } = byId.get(id)
    if (f.functionName === '(idle)') continue
    total += us
    const where = placeOf(f)
    const fn = `${f.functionName || '(anon)'} ${where}:${f.lineNumber + 1}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
    const place = where === '' ? `(${f.functionName})` : where
    byPlace.set(place, (byPlace.get(place) ?? 0) + us)
  }
  return { total, byFunction, byPlace }
}
