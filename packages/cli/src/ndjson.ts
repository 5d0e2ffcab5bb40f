// Reading an exported NDJSON audit file back, one record a line, streamed.
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { AuditRecord } from '@govex/core'
import { CliError } from './errors.js'

export async function * readNdjson (file: string): AsyncGenerator<AuditRecord> {
  const input = createReadStream(file, { encoding: 'utf8' })
  const opened = new Promise<void>((resolve, reject) => {
    input.once('ready', () => { resolve() })
    input.once('error', (e: NodeJS.ErrnoException) => {
      reject(new CliError(`cannot read ${file}: ${e.code === 'ENOENT' ? 'it does not exist' : e.message}`))
    })
  })
  await opened
  const lines = createInterface({ input, crlfDelay: Infinity })
  let n = 0
  try {
    for await (const line of lines) {
      n++
      if (line.trim() === '') continue
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (e) {
        throw new CliError(`${file}:${n} is not a JSON record (${(e as Error).message}); is this an NDJSON export?`)
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new CliError(`${file}:${n} is not an audit record object; is this an NDJSON export?`)
      }
      yield value as AuditRecord
    }
  } finally {
    lines.close()
    input.destroy()
  }
}
