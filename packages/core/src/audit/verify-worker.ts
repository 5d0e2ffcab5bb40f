// A worker thread of verify-pool.ts: checks the blocks of lines it is sent
// (checkChunk) and sends each back, with its buffer, in the order received.
import { parentPort } from 'node:worker_threads'
import { checkChunk } from './chunk-check.js'

interface Request {
  id: number
  buffer: ArrayBuffer
  offset: number
  length: number
}

parentPort?.on('message', (request: Request) => {
  const summary = checkChunk(Buffer.from(request.buffer, request.offset, request.length))
  parentPort?.postMessage({ ...request, summary }, [request.buffer])
})
