import type { FastifyRequest } from 'fastify'
import { sha256 } from './sha256.js'

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
 * The default request fingerprint: sha256 (base64url) of method, request target (path and
 * query string exactly as received, so `/x/flash` and `/x/easypay` on one route pattern are
 * different requests) and the canonical body (raw bytes for Buffer bodies, the text for
 * string bodies).
 */
export function defaultFingerprint(request: FastifyRequest): string {
  const head = `${request.method}\n${request.url}\n`
  const body = request.body
  if (Buffer.isBuffer(body)) return sha256(Buffer.concat([Buffer.from(head), body]))
  return sha256(head + (typeof body === 'string' ? body : canonicalJson(body)))
}
