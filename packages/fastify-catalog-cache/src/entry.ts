import { createHash } from 'node:crypto'
import { deepFreeze } from './plain-json.js'

/**
 * One loaded version of a catalog, as kept in L1. Everything HTTP needs is computed once
 * per version: the body bytes, the strong ETag and the constant tail of Cache-Control.
 * All times are epoch milliseconds.
 */
export interface CatalogEntry {
  readonly value: unknown
  readonly body: Buffer
  /** Content hash of `body` (sha256, base64url): the same bytes give the same version everywhere. */
  readonly version: string
  /** `"<version>"`, a strong ETag. */
  readonly etag: string
  /** The store generation the entry was loaded under (bumped by invalidate/refresh). */
  readonly generation: number
  readonly createdAt: number
  readonly freshUntil: number
  /** End of the stale-while-revalidate window. */
  readonly staleUntil: number
  /** End of the stale-if-error window. */
  readonly errorUntil: number
  /** `, stale-while-revalidate=N, stale-if-error=M` */
  readonly cacheControlTail: string
}

export interface EntryTimes {
  createdAt: number
  freshUntil: number
  staleUntil: number
  errorUntil: number
}

interface StoredMeta {
  v: string
  g: number
  c: number
  f: number
  s: number
  e: number
}

export function createEntry(
  body: string,
  generation: number,
  times: EntryTimes,
  version = hash(body),
  value: unknown = JSON.parse(body)
): CatalogEntry {
  const swr = Math.round((times.staleUntil - times.freshUntil) / 1000)
  const sie = Math.round((times.errorUntil - times.freshUntil) / 1000)
  return {
    value: deepFreeze(value),
    body: Buffer.from(body),
    version,
    etag: `"${version}"`,
    generation,
    ...times,
    cacheControlTail: `, stale-while-revalidate=${swr}, stale-if-error=${sie}`
  }
}

/** Milliseconds until the last window of the entry closes; the store may drop it after that. */
export function retentionMs(entry: CatalogEntry, now: number): number {
  return Math.max(1, Math.max(entry.staleUntil, entry.errorUntil) - now)
}

/** L2 format: one line of JSON metadata, a newline, then the body exactly as served. */
export function encodeEntry(entry: CatalogEntry): string {
  const meta: StoredMeta = {
    v: entry.version,
    g: entry.generation,
    c: entry.createdAt,
    f: entry.freshUntil,
    s: entry.staleUntil,
    e: entry.errorUntil
  }
  return `${JSON.stringify(meta)}\n${entry.body.toString()}`
}

export function decodeEntry(payload: string): CatalogEntry {
  const newline = payload.indexOf('\n')
  if (newline < 0) throw new Error('@moolah/fastify-catalog-cache: stored entry has no metadata line')
  const meta = JSON.parse(payload.slice(0, newline)) as StoredMeta
  return createEntry(
    payload.slice(newline + 1),
    meta.g,
    { createdAt: meta.c, freshUntil: meta.f, staleUntil: meta.s, errorUntil: meta.e },
    meta.v
  )
}

function hash(body: string): string {
  return createHash('sha256').update(body).digest('base64url')
}
