import { FAIL_MODES, OptionReader, type FailMode, type RedisClient } from '@moolah/plugin-kit'
import type { RouteOptions } from 'fastify'
import type { CatalogCacheEvent } from './events.js'
import type { CatalogCacheStore } from './stores/store.js'

export const PLUGIN = '@moolah/fastify-catalog-cache'

/**
 * Registration options. Durations in milliseconds end in `Ms`; `ttl`, `staleWhileRevalidate`
 * and `staleIfError` are seconds, because they become the Cache-Control directives of the
 * same names.
 */
export interface CatalogCacheOptions {
  /**
   * The L2 store, shared by every instance. Give `redis` (or nothing) instead to get the
   * built-in ones; `redis` and `prefix` next to a custom store are a TypeError.
   * @default a RedisCatalogCacheStore on `redis` (or `fastify.redis`), else a MemoryCatalogCacheStore
   */
  store?: CatalogCacheStore
  /**
   * An ioredis `Redis` or `Cluster` for the default store. The plugin never closes it; it opens
   * (and closes at onClose) one extra connection for pub/sub.
   * @default fastify.redis, when @fastify/redis is registered before this plugin
   */
  redis?: RedisClient
  /**
   * Prefix of the Redis keys (`<prefix>{<name>}:entry|generation|lock`) and of the channel
   * (`<prefix>events`) of the default Redis store. No `{` or `}`.
   * @default 'catalog:'
   */
  prefix?: string
  /**
   * Timeout of every store call, in ms; a call that times out counts as failed.
   * @default 200
   */
  timeoutMs?: number
  /**
   * When the store fails or times out: 'open' loads on this instance alone (one load per
   * instance instead of one across instances) and keeps the result in L1; 'closed' never runs
   * the loader without the store's lock: it serves what L1 still may (stale-if-error included),
   * else 503 DEPENDENCY_UNAVAILABLE, and `refresh()` rejects without loading.
   * @default 'open'
   */
  failMode?: FailMode
  /**
   * Observability hook; exceptions it throws are caught and logged (error).
   * @default undefined
   */
  onEvent?: (event: CatalogCacheEvent) => void
  /**
   * Lease of the cross-instance recompute lock, in ms; also the longest another instance
   * waits for a load before loading itself.
   * @default 10000
   */
  leaseMs?: number
  /**
   * Default loader timeout, in ms; must be below `leaseMs`.
   * @default 5000
   */
  loadTimeoutMs?: number
  /**
   * Default freshness of a catalog, in seconds.
   * @default 300
   */
  ttl?: number
  /**
   * Default stale-while-revalidate window after freshness ends, in seconds.
   * @default 60
   */
  staleWhileRevalidate?: number
  /**
   * Default stale-if-error window after freshness ends, in seconds.
   * @default 86400
   */
  staleIfError?: number
  /**
   * Fraction of the TTL shaved off at random per load (0 ≤ jitter < 1), so catalogs loaded
   * together do not expire together.
   * @default 0.1
   */
  jitter?: number
  /**
   * First wait after a failed load before the loader is tried again, in ms; doubles per failure.
   * @default 1000
   */
  retryBackoffMs?: number
  /**
   * Longest wait between failed loads, in ms.
   * @default 30000
   */
  retryBackoffMaxMs?: number
  /**
   * Most catalogs kept in memory (L1); the least recently stored is evicted first.
   * @default 1000
   */
  l1MaxEntries?: number
  /**
   * Cache name in the `Cache-Status` header.
   * @default 'moolah-catalog'
   */
  cacheStatusName?: string
  /**
   * Marks routes that need authentication; a catalog route for which it returns true is
   * refused at registration.
   * @default () => false
   */
  isPrivateRoute?: (route: RouteOptions) => boolean
}

/** Everything but the store, validated and with defaults. */
export interface ResolvedOptions extends Windows {
  timeoutMs: number
  failMode: FailMode
  onEvent: ((event: CatalogCacheEvent) => void) | undefined
  leaseMs: number
  loadTimeoutMs: number
  jitter: number
  retryBackoffMs: number
  retryBackoffMaxMs: number
  l1MaxEntries: number
  cacheStatusName: string
  isPrivateRoute: (route: RouteOptions) => boolean
}

/** Validates the options (not the store ones: see selectStore) and fills in the defaults. */
export function resolveOptions(options: CatalogCacheOptions): ResolvedOptions {
  const read = new OptionReader(PLUGIN, options)
  const leaseMs = read.integer('leaseMs', 10_000)
  const loadTimeoutMs = read.integer('loadTimeoutMs', 5000)
  if (loadTimeoutMs >= leaseMs)
    read.fail(
      `loadTimeoutMs (${loadTimeoutMs}) must be below leaseMs (${leaseMs}), or a slow load would outlive its lock`
    )
  return {
    timeoutMs: read.integer('timeoutMs', 200),
    failMode: read.oneOf('failMode', FAIL_MODES, 'open'),
    onEvent: read.optionalFunction('onEvent'),
    leaseMs,
    loadTimeoutMs,
    ...windows(read, { ttl: 300, staleWhileRevalidate: 60, staleIfError: 86_400 }),
    jitter: read.check(
      'jitter',
      0.1,
      (value) => typeof value === 'number' && value >= 0 && value < 1,
      'a number from 0 up to (not including) 1'
    ),
    retryBackoffMs: read.integer('retryBackoffMs', 1000),
    retryBackoffMaxMs: read.integer('retryBackoffMaxMs', 30_000),
    l1MaxEntries: read.integer('l1MaxEntries', 1000),
    cacheStatusName: read.check(
      'cacheStatusName',
      'moolah-catalog',
      (value) => typeof value === 'string' && /^[A-Za-z][\w.-]*$/.test(value),
      'a token such as "moolah-catalog"'
    ),
    isPrivateRoute: read.optionalFunction<(route: RouteOptions) => boolean>('isPrivateRoute') ?? (() => false)
  }
}

/** A catalog's time windows, in seconds. */
export interface Windows {
  ttl: number
  staleWhileRevalidate: number
  staleIfError: number
}

/** The three windows of the plugin or of one definition, each defaulting to `defaults`. */
export function windows(read: OptionReader<Partial<Windows>>, defaults: Windows): Windows {
  const seconds = (value: unknown): boolean =>
    typeof value === 'number' && value >= 0 && Number.isFinite(value)
  return {
    ttl: read.check(
      'ttl',
      defaults.ttl,
      (value) => seconds(value) && value !== 0,
      'a positive number of seconds'
    ),
    staleWhileRevalidate: read.check(
      'staleWhileRevalidate',
      defaults.staleWhileRevalidate,
      seconds,
      'a number of seconds ≥ 0'
    ),
    staleIfError: read.check('staleIfError', defaults.staleIfError, seconds, 'a number of seconds ≥ 0')
  }
}
