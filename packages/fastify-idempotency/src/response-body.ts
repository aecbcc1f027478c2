import { Readable } from 'node:stream'

export type ResponseBody =
  /** `bytes` are exactly what the client receives; `payload` is what to pass on to Fastify. */
  | { status: 'stored', bytes: Buffer, payload: unknown }
  | { status: 'too-large' | 'unstorable', payload: unknown }

/**
 * Turns an onSend payload into the bytes to store. Node streams are buffered up to
 * `maxBytes` (and then sent as that buffer); past it, the chunks read so far are put
 * back in front of the rest of the stream, so the client still gets every byte.
 * Other payload kinds (web streams, `Response`) are sent untouched and not stored.
 */
export async function readResponseBody(payload: unknown, maxBytes: number): Promise<ResponseBody> {
  if (payload instanceof Readable) return readStream(payload, maxBytes)
  const bytes = toBytes(payload)
  if (bytes === undefined) return { status: 'unstorable', payload }
  if (bytes.length > maxBytes) return { status: 'too-large', payload }
  return { status: 'stored', bytes, payload }
}

function toBytes(payload: unknown): Buffer | undefined {
  if (payload === null || payload === undefined) return Buffer.alloc(0)
  if (typeof payload === 'string') return Buffer.from(payload)
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  return undefined
}

async function readStream(stream: Readable, maxBytes: number): Promise<ResponseBody> {
  const chunks: Buffer[] = []
  let size = 0
  const iterator = stream[Symbol.asyncIterator]()
  for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
    const chunk = Buffer.from(next.value as Buffer | string)
    chunks.push(chunk)
    size += chunk.length
    if (size > maxBytes) return { status: 'too-large', payload: Readable.from(replay(chunks, iterator)) }
  }
  const bytes = Buffer.concat(chunks)
  return { status: 'stored', bytes, payload: bytes }
}

async function * replay(chunks: Buffer[], rest: AsyncIterator<unknown>): AsyncGenerator<Buffer> {
  yield * chunks
  for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield Buffer.from(next.value as Buffer | string)
}
