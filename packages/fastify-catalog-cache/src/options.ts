import type { Cluster, Redis } from 'ioredis'
import type { FastifyInstance, RouteOptions } from 'fastify'
import type { CatalogCacheEvent } from './events.js'
import { MemoryCatalogStore } from './memory-store.js'
import { RedisCatalogStore } from './redis-store.js'
import type { CatalogStore } from './store.js'

export interface CatalogCacheOptions {
  /** L2 store. Default: a Redis store on `redis` (or `fastify.redis`), else an in-process memory store. */
  store?: CatalogStore
  /** An ioredis `Redis` or `Cluster` for the L2 store. Default: `fastify.redis` when @fastify/redis is registered. */
  redis?: Redis | Cluster
  /** Key and channel prefix of the Redis store. Default `catalog:`. */
  prefix?: string
  /** Timeout of every store call, in ms. Default 200. */
  timeoutMs?: number
  /** Most catalogs kept in memory (L1); the least recently stored is evicted first. Default 1000. */
  l1MaxEntries?: number
  /** Default freshness of a catalog, in seconds. Default 300. */
  ttl?: number
  /** Default stale-while-revalidate window after freshness ends, in seconds. Default 60. */
  staleWhileRevalidate?: number
  /** Default stale-if-error window after freshness ends, in seconds. Default 86400. */
  staleIfError?: number
  /** Fraction of the TTL shaved off at random per load (0 ≤ jitter < 1) so catalogs loaded together do not expire together. Default 0.1. */
  jitter?: number
  /** Lease of the cross-instance recompute lock, in ms; also the longest another instance waits for a load. Default 10000. */
  lockTtlMs?: number
  /** Default loader timeout, in ms; must be below `lockTtlMs`. Default 5000. */
  loadTimeoutMs?: number
  /** First wait after a failed load before the loader is tried again, in ms; doubles per failure. Default 1000. */
  retryBackoffMs?: number
  /** Longest wait between failed loads, in ms. Default 30000. */
  retryBackoffMaxMs?: number
  /** Cache name in the `Cache-Status` header. Default `moolah-catalog`. */
  cacheStatusName?: string
  /** Marks routes that need authentication; a catalog route for which it returns true is refused at registration. */
  isPrivateRoute?: (route: RouteOptions) => boolean
  /** Observability hook; exceptions it throws are caught and logged. */
  onEvent?: (event: CatalogCacheEvent) => void
}

export interface ResolvedOptions {
  store: CatalogStore
  timeoutMs: number
  l1MaxEntries: number
  ttl: number
  staleWhileRevalidate: number
  staleIfError: number
  jitter: number
  lockTtlMs: number
  loadTimeoutMs: number
  retryBackoffMs: number
  retryBackoffMaxMs: number
  cacheStatusName: string
  isPrivateRoute: (route: RouteOptions) => boolean
  onEvent: ((event: CatalogCacheEvent) => void) | undefined
}

const STORE_METHODS = ['read', 'lock', 'unlock', 'write', 'invalidate', 'publish', 'subscribe'] as const

export function resolveOptions(fastify: FastifyInstance, options: CatalogCacheOptions): ResolvedOptions {
  const timeoutMs = positiveInteger(options, 'timeoutMs', 200)
  const lockTtlMs = positiveInteger(options, 'lockTtlMs', 10_000)
  const loadTimeoutMs = positiveInteger(options, 'loadTimeoutMs', 5000)
  if (loadTimeoutMs >= lockTtlMs) fail(`loadTimeoutMs (${loadTimeoutMs}) must be below lockTtlMs (${lockTtlMs}), or a slow load would outlive its lock`)
  const jitter = options.jitter ?? 0.1
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) fail(`jitter must be a number from 0 up to (not including) 1, got ${String(jitter)}`)
  const cacheStatusName = options.cacheStatusName ?? 'moolah-catalog'
  if (typeof cacheStatusName !== 'string' || !/^[A-Za-z][\w.-]*$/.test(cacheStatusName)) fail(`cacheStatusName must be a token such as "moolah-catalog", got ${String(cacheStatusName)}`)
  return {
    store: resolveStore(fastify, options),
    timeoutMs,
    l1MaxEntries: positiveInteger(options, 'l1MaxEntries', 1000),
    ...windows(options, { ttl: 300, staleWhileRevalidate: 60, staleIfError: 86_400 }),
    jitter,
    lockTtlMs,
    loadTimeoutMs,
    retryBackoffMs: positiveInteger(options, 'retryBackoffMs', 1000),
    retryBackoffMaxMs: positiveInteger(options, 'retryBackoffMaxMs', 30_000),
    cacheStatusName,
    isPrivateRoute: optionalFunction(options, 'isPrivateRoute') ?? (() => false),
    onEvent: optionalFunction(options, 'onEvent')
  }
}

export interface Windows {
  ttl: number
  staleWhileRevalidate: number
  staleIfError: number
}

/** Validates the three time windows (seconds) of the plugin or of one definition, filling gaps from `defaults`. */
export function windows(source: Partial<Windows>, defaults: Windows, where = 'options'): Windows {
  const ttl = source.ttl ?? defaults.ttl
  if (typeof ttl !== 'number' || !(ttl > 0) || !Number.isFinite(ttl)) fail(`${where}.ttl must be a positive number of seconds, got ${String(ttl)}`)
  const seconds = (key: 'staleWhileRevalidate' | 'staleIfError'): number => {
    const value = source[key] ?? defaults[key]
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) fail(`${where}.${key} must be a number of seconds ≥ 0, got ${String(value)}`)
    return value
  }
  return { ttl, staleWhileRevalidate: seconds('staleWhileRevalidate'), staleIfError: seconds('staleIfError') }
}

function resolveStore(fastify: FastifyInstance, options: CatalogCacheOptions): CatalogStore {
  if (options.store !== undefined) {
    const store = options.store as unknown as Record<string, unknown>
    const missing = STORE_METHODS.filter((method) => typeof store?.[method] !== 'function')
    if (missing.length > 0) fail(`store must implement CatalogStore; missing ${missing.join(', ')}`)
    return options.store
  }
  const prefix = options.prefix
  if (prefix !== undefined && typeof prefix !== 'string') fail(`prefix must be a string, got ${typeof prefix}`)
  const redis = options.redis ?? (fastify as { redis?: Redis | Cluster }).redis
  if (redis === undefined) return new MemoryCatalogStore()
  if (typeof redis.defineCommand !== 'function' || typeof redis.duplicate !== 'function') fail('redis must be an ioredis Redis or Cluster client')
  return new RedisCatalogStore({ redis, prefix })
}

export function positiveInteger<K extends string>(source: Partial<Record<K, unknown>>, key: K, fallback: number, where = 'options'): number {
  const value = source[key] ?? fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(`${where}.${key} must be a positive integer, got ${String(value)}`)
  return value
}

function optionalFunction<K extends 'isPrivateRoute' | 'onEvent'>(options: CatalogCacheOptions, key: K): CatalogCacheOptions[K] {
  const value = options[key]
  if (value !== undefined && typeof value !== 'function') fail(`options.${key} must be a function, got ${typeof value}`)
  return value
}

export function fail(message: string): never {
  throw new TypeError(`@moolah/fastify-catalog-cache: ${message}`)
}
