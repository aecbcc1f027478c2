import type { CatalogEntry } from './entry.js'
import type { StaleReason } from './events.js'

export type CatalogState = 'hit' | 'miss' | 'stale'
export type CatalogTier = 'l1' | 'l2' | 'loader'

/** What get() returns. Times are in seconds. */
export interface CatalogResult<T = unknown> {
  name: string
  /** The value, deep-frozen: it is shared by every caller. */
  value: T
  /** The serialized body, produced once per version. */
  body: Buffer
  /** Content hash of `body`. */
  version: string
  /** Strong ETag: `"<version>"`. */
  etag: string
  /** Seconds since the value was loaded (on whichever instance loaded it). */
  age: number
  /** Seconds of freshness left; negative when stale. */
  ttl: number
  state: CatalogState
  /** Where this answer came from. */
  tier: CatalogTier
  /** Set when `state` is `stale`. */
  staleReason?: StaleReason
  /** `public, max-age=…, stale-while-revalidate=…, stale-if-error=…` for this answer. */
  cacheControl: string
  /** RFC 9211 `Cache-Status` for this answer, e.g. `moolah-catalog; hit; ttl=42`. */
  cacheStatus: string
}

/** Where a read found its entry, before it becomes a result. */
export interface Obtained {
  entry: CatalogEntry
  state: CatalogState
  tier: CatalogTier
  staleReason?: StaleReason
}

/** The answer for one read, with the header values HTTP needs. */
export function buildResult<T>(
  name: string,
  obtained: Obtained,
  now: number,
  cacheStatusName: string
): CatalogResult<T> {
  const { entry, state, tier, staleReason } = obtained
  const ttl = Math.floor((entry.freshUntil - now) / 1000)
  return {
    name,
    value: entry.value as T,
    body: entry.body,
    version: entry.version,
    etag: entry.etag,
    age: Math.floor((now - entry.createdAt) / 1000),
    ttl,
    state,
    tier,
    ...(staleReason === undefined ? {} : { staleReason }),
    cacheControl: `public, max-age=${state === 'stale' ? 0 : Math.max(0, ttl)}${entry.cacheControlTail}`,
    cacheStatus:
      state === 'hit'
        ? `${cacheStatusName}; hit; ttl=${ttl}`
        : state === 'miss'
          ? `${cacheStatusName}; fwd=miss; stored`
          : `${cacheStatusName}; fwd=stale; ttl=${ttl}; detail=${staleReason === 'error' ? 'stale-if-error' : 'stale-while-revalidate'}`
  }
}
