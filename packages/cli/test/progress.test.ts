// Progress of long audit runs (PROTOCOL.md "Command line"): on a terminal's
// stderr only, after a second, one line rewritten in place; a count and rate,
// or the time spent for a step that cannot count (a query page, stats).
import t from 'tap'
import { Progress } from '../src/progress.js'
import { Capture } from './helpers/run.js'

function clock (): { now: () => number, advance: (ms: number) => void } {
  let ms = 1_000_000
  return { now: () => ms, advance: n => { ms += n } }
}

t.test('nothing when stderr is not a terminal, however long the run', async t => {
  const stderr = new Capture(false)
  const time = clock()
  const progress = new Progress(stderr, 'exported', { now: time.now })
  time.advance(60_000)
  progress.add(5000)
  progress.show()
  t.equal(progress.done(), 5000)
  t.equal(stderr.text, '')
})

t.test('nothing for a run under the delay', async t => {
  const stderr = new Capture(true)
  const time = clock()
  const progress = new Progress(stderr, 'exported', { now: time.now })
  time.advance(999)
  progress.add(10)
  t.equal(progress.done(), 10)
  t.equal(stderr.text, '', 'a short run stays quiet, and done() adds no line')
})

t.test('a count and its rate, rewritten in place, then a closing line', async t => {
  const stderr = new Capture(true)
  const time = clock()
  const progress = new Progress(stderr, 'exported', { now: time.now })
  for (let i = 0; i < 2048; i++) progress.tick()
  t.equal(stderr.text, '', 'not before a second')
  time.advance(1000)
  for (let i = 0; i < 1024; i++) progress.tick()
  t.equal(stderr.text, '\rexported 3072 records (3072/s)\x1b[K', 'a busy loop shows it without the timer')
  progress.show()
  t.equal(stderr.text.split('\r').length, 2, 'at most once an interval')
  time.advance(1000)
  progress.show()
  t.match(stderr.text, /\rexported 3072 records \(1536\/s\)\x1b\[K$/)
  t.equal(progress.done(), 3072)
  t.match(stderr.text, /\rexported 3072 records \(1536\/s\), done\x1b\[K\n$/)
  t.equal(progress.done(), 3072, 'done twice writes once')
  t.equal(stderr.text.match(/done/g)?.length, 1)
})

t.test('a step that cannot count shows the time it takes; a failed run only ends the line', async t => {
  const stderr = new Capture(true)
  const time = clock()
  const progress = new Progress(stderr, 'verifying the store', { counts: false, now: time.now })
  time.advance(3400)
  progress.show()
  t.equal(stderr.text, '\rverifying the store… 3 s\x1b[K')
  time.advance(62_000)
  progress.show()
  t.match(stderr.text, /\rverifying the store… 1 min 5 s\x1b\[K$/)
  progress.done(false)
  t.match(stderr.text, /1 min 5 s\x1b\[K\n$/, 'the error that follows starts on a line of its own')
})

t.test('the timer rewrites the line while the step gives no sign of life', async t => {
  const stderr = new Capture(true)
  const progress = new Progress(stderr, 'verifying the store', { counts: false, delayMs: 0, intervalMs: 10 })
  await new Promise(resolve => setTimeout(resolve, 60))
  progress.done()
  t.match(stderr.text, /^\rverifying the store… 0 s\x1b\[K/)
  t.match(stderr.text, /, done\x1b\[K\n$/)
  const lines = stderr.text.split('\r').length
  await new Promise(resolve => setTimeout(resolve, 30))
  t.equal(stderr.text.split('\r').length, lines, 'the timer stops with done()')
})
