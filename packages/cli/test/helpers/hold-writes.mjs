// Preloaded into a govex child process (node --import) by tests that need a
// start to stay under way until they have looked: once the folder
// GOVEX_TEST_HOLD_DIR holds GOVEX_TEST_HOLD_AFTER documents (*.json), every
// file opened, written, renamed or linked into it waits until the file
// GOVEX_TEST_HOLD_UNTIL exists. A bootstrap of many fsync'd members only made
// the window likely: on a fast disk it could end before the test had looked.
// Plain JavaScript: the child runs the built executable, without a TS loader.
import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { dirname, resolve } from 'node:path'

const folder = process.env.GOVEX_TEST_HOLD_DIR
const after = Number(process.env.GOVEX_TEST_HOLD_AFTER ?? '0')
const until = process.env.GOVEX_TEST_HOLD_UNTIL

if (folder !== undefined && until !== undefined) {
  const target = resolve(folder)
  const documents = () => {
    try {
      return fs.readdirSync(target).filter(name => name.endsWith('.json')).length
    } catch {
      return 0
    }
  }
  const hold = async (path) => {
    if (typeof path !== 'string' || dirname(resolve(path)) !== target || documents() < after) return
    while (!fs.existsSync(until)) await new Promise(resolve => setTimeout(resolve, 5))
  }
  const promises = fs.promises
  // the argument naming the file written in the folder: the first, or the new name
  for (const [name, at] of [['open', 0], ['writeFile', 0], ['rename', 1], ['link', 1]]) {
    const original = promises[name]
    promises[name] = async (...args) => {
      await hold(args[at])
      return await original(...args)
    }
  }
  // `import { open } from 'node:fs/promises'` sees the wrapped functions too
  syncBuiltinESMExports()
}
