import { createHash } from 'node:crypto'
import type { FastifyRequest } from 'fastify'

/**
 * JSON with object keys sorted at every depth, so `{a,b}` and `{b,a}` are the same
 * request. Arrays keep their order; everything else follows JSON.stringify.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item
    const record = item as Record<string, unknown>
    return Object.fromEntries(Object.keys(record).sort().map((name) => [name, record[name]]))
  }) ?? ''
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
