import { createHash } from 'node:crypto'
import type { FastifyRequest } from 'fastify'

/**
 * JSON with object keys sorted at every depth, so `{a,b}` and `{b,a}` are the same
 * request. Arrays keep their order; everything else follows JSON.stringify (undefined
 * members dropped, `toJSON` honoured). Hand-written because it runs on every request.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value) ?? ''
}

function serialize(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  const record = value as Record<string, unknown> & { toJSON?: () => unknown }
  if (typeof record.toJSON === 'function') return serialize(record.toJSON())
  if (Array.isArray(value)) return `[${value.map((item: unknown) => serialize(item) ?? 'null').join(',')}]`
  const members: string[] = []
  for (const name of Object.keys(record).sort()) {
    const member = serialize(record[name])
    if (member !== undefined) members.push(`${JSON.stringify(name)}:${member}`)
  }
  return `{${members.join(',')}}`
}

/**
 * The default request fingerprint: sha256 (base64url) of method, route pattern and
 * the canonical body (raw bytes for Buffer bodies, the text for string bodies).
 */
export function defaultFingerprint(request: FastifyRequest): string {
  const body: unknown = request.body
  const hash = createHash('sha256').update(`${request.method}\n${String(request.routeOptions.url)}\n`)
  if (Buffer.isBuffer(body)) hash.update(body)
  else hash.update(typeof body === 'string' ? body : canonicalJson(body))
  return hash.digest('base64url')
}
