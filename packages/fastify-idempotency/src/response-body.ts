import { Readable } from 'node:stream'

export type ResponseBody =
  /** `body` is exactly what the client receives (a string as UTF-8), `size` its byte length; `payload` goes on to Fastify. */
  | { status: 'stored'; body: Buffer | string; size: number; payload: unknown }
  | { status: 'too-large' | 'unstorable'; payload: unknown }

/**
 * Turns an onSend payload into the bytes to store. Node streams are buffered up to
 * `maxBytes` (and then sent as that buffer); past it, the chunks read so far are put
 * back in front of the rest of the stream, so the client still gets every byte.
 * Other payload kinds (web streams, `Response`) are sent untouched and not stored.
 * Only a stream gives a promise: the usual string or buffer is answered synchronously.
 */
export function readResponseBody(payload: unknown, maxBytes: number): ResponseBody | Promise<ResponseBody> {
  if (payload instanceof Readable) return readStream(payload, maxBytes)
  const body = toBody(payload)
  if (body === undefined) return { status: 'unstorable', payload }
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length
  if (size > maxBytes) return { status: 'too-large', payload }
  return { status: 'stored', body, size, payload }
}

// Strings stay strings: the record encoder writes them straight into its buffer.
function toBody(payload: unknown): Buffer | string | undefined {
  if (payload === null || payload === undefined) return ''
  if (typeof payload === 'string') return payload
  if (payload instanceof Uint8Array)
    return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
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
  const body = Buffer.concat(chunks)
  return { status: 'stored', body, size: body.length, payload: body }
}

async function* replay(chunks: Buffer[], rest: AsyncIterator<unknown>): AsyncGenerator<Buffer> {
  yield* chunks
  for (let next = await rest.next(); next.done !== true; next = await rest.next())
    yield Buffer.from(next.value as Buffer | string)
}
