// Waiting in tests for something that happens in the background (a watcher's
// rebuild, a change reaching another gateway): poll for it, up to a bound,
// instead of sleeping a fixed time that a loaded machine may overrun.

/**
 * Polls `probe` every 10 ms until `done` holds of its value, for at most `ms`.
 * Resolves with the value that satisfied `done`, or with the last one seen when
 * time ran out, so the caller's assertion on it fails and shows what it was.
 */
export async function waitFor<T> (ms: number, probe: () => T | Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = performance.now() + ms
  for (;;) {
    const value = await probe()
    if (done(value) || performance.now() >= deadline) return value
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
