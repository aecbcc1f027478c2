/** What `onEvent` receives. Times are milliseconds. */
export type CatalogCacheEvent =
  /** A get() answered from a fresh copy, in memory (`l1`) or from Redis (`l2`). */
  | { type: 'hit'; name: string; tier: 'l1' | 'l2' }
  /** A get() had to wait for a load, here (`loader`) or on another instance (`l2`). */
  | { type: 'miss'; name: string; tier: 'l2' | 'loader' }
  /** A get() answered with a stale copy: inside stale-while-revalidate, or inside stale-if-error after a failed load. */
  | { type: 'stale'; name: string; reason: StaleReason }
  /** The loader ran and returned a valid value; `version` is the content hash of the new body. */
  | { type: 'load'; name: string; durationMs: number; version: string }
  /** The loader threw, timed out, or returned a value that is not plain JSON. */
  | { type: 'load-error'; name: string; durationMs: number; error: unknown }
  /** L1 copies were dropped: by this instance, by a message from another one, or after the subscriber (re)connected. */
  | { type: 'invalidation'; names: string[]; origin: 'local' | 'remote' | 'resync' }
  /** A store (Redis) call failed or timed out; the cache carried on without it. */
  | { type: 'store-error'; operation: StoreOperation; error: unknown }

export type StaleReason = 'revalidating' | 'error'
export type StoreOperation = 'read' | 'lock' | 'unlock' | 'write' | 'invalidate' | 'publish' | 'subscribe'
