import * as crypto from 'node:crypto'
import type { FastifyRequest } from 'fastify'

type OneShotHash = (algorithm: string, data: string | Buffer, outputEncoding: 'base64url') => string

// crypto.hash (Node ≥ 20.12) skips the Hash object: about twice as fast, and this runs twice per request.
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash

/** SHA-256 of `data` as base64url. */
const sha256: (data: string | Buffer) => string =
  oneShot === undefined
    ? /* c8 ignore next -- only on Node 20.0–20.11, which lack crypto.hash */
      (data) => crypto.createHash('sha256').update(data).digest('base64url')
    : (data) => oneShot('sha256', data, 'base64url')

export interface StorageKeyParts {
  scope: string
  method: string
  /** The route pattern (`routeOptions.url`), not the concrete URL. */
  route: string
  key: string
}

/**
 * The record's key in the store, one per (scope, method, route, key): hashing keeps arbitrary
 * client keys out of the key space and gives every record a single fixed-length key
 * (Cluster-safe). A Redis store puts its prefix in front.
 */
export function storageKey(parts: StorageKeyParts): string {
  return sha256(JSON.stringify([parts.scope, parts.method, parts.route, parts.key]))
}

/**
 * JSON with object keys sorted at every depth, so `{a,b}` and `{b,a}` are the same
 * request. Arrays keep their order; everything else follows JSON.stringify (undefined
 * members dropped, `toJSON` honoured).
 */
export function canonicalJson(value: unknown): string {
  // A parsed body (plain objects, arrays, primitives) is written by JSON.stringify itself: as
  // it is when its keys are already in order, else with the sorted names of all its keys as the
  // property list, which JSON.stringify follows at every depth (skipping names an object lacks).
  // Same text as the careful path below, natively and several times faster.
  const names = new Set<string>()
  const shape = survey(value, names)
  if (shape === SORTED) return JSON.stringify(value) ?? '' // undefined for undefined
  if (shape === UNSORTED) return JSON.stringify(value, [...names].sort())
  return serialize(value) as string // an object: always written
}

const SORTED = 0
const UNSORTED = 1
// Holds a Date, a class instance, a toJSON method or a `__proto__` member (which the property
// list would read from the prototype of every object lacking it)
const OTHER = 2

/** Collects every object key into `names`, and says whether the native paths write `value` canonically. */
function survey(value: unknown, names: Set<string>): number {
  if (value === null || typeof value !== 'object') return SORTED
  if (Array.isArray(value)) {
    let shape = SORTED
    for (const item of value as unknown[]) shape = Math.max(shape, survey(item, names))
    return shape
  }
  const record = value as Record<string, unknown>
  if (!isPlain(record)) return OTHER
  const keys = Object.keys(record)
  let shape = inOrder(keys) ? SORTED : UNSORTED
  for (const key of keys) {
    if (key === '__proto__') return OTHER
    names.add(key)
    shape = Math.max(shape, survey(record[key], names))
    if (shape === OTHER) return OTHER
  }
  return shape
}

/** The careful path, for values holding anything but plain objects, arrays and primitives. */
function serialize(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  const record = value as Record<string, unknown> & { toJSON?: () => unknown }
  if (typeof record.toJSON === 'function') return serialize(record.toJSON())
  // Holes and undefined items are null, as JSON.stringify writes them.
  if (Array.isArray(value))
    return `[${Array.from(value, (item: unknown) => serialize(item) ?? 'null').join(',')}]`
  const members: string[] = []
  for (const name of Object.keys(record).sort()) {
    const member = serialize(record[name])
    if (member !== undefined) members.push(`${JSON.stringify(name)}:${member}`)
  }
  return `{${members.join(',')}}`
}

/** A plain object without a toJSON method; anything else (a Date, a class instance) takes the careful path. */
function isPlain(record: Record<string, unknown>): boolean {
  const prototype: unknown = Object.getPrototypeOf(record)
  return (prototype === Object.prototype || prototype === null) && typeof record.toJSON !== 'function'
}

function inOrder(names: string[]): boolean {
  for (let i = 1; i < names.length; i++) if ((names[i - 1] as string) > (names[i] as string)) return false
  return true
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
