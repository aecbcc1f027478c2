import { FAIL_MODES, OptionReader, type FailMode, type RedisClient } from '@moolah/plugin-kit'
import type { WalletLockEventListener } from './events.js'
import type { WalletLockStore } from './stores/store.js'

export const PLUGIN = '@moolah/fastify-wallet-lock'

/** Registration options. Every duration is in milliseconds and ends in `Ms`. */
export interface WalletLockOptions {
  /**
   * Where locks live. Give `redis` (or nothing) instead to get the built-in ones; `redis` and
   * `prefix` next to a custom store are a TypeError.
   * @default a RedisWalletLockStore on `redis` (or `fastify.redis`), else a MemoryWalletLockStore
   */
  store?: WalletLockStore
  /**
   * An ioredis `Redis` or `Cluster` for the default store. The plugin never closes it; the store
   * opens (and closes at onClose) one extra connection for hand-off messages.
   * @default fastify.redis, when @fastify/redis is registered before this plugin
   */
  redis?: RedisClient
  /**
   * Prefix of the Redis keys (`<prefix>{<resource>}`, `…:queue`, `…:waiters`) and of the
   * hand-off channels (`<prefix>hand-off:<uuid>`) of the default Redis store. No `{` or `}`.
   * @default 'wallet-lock:'
   */
  prefix?: string
  /**
   * Timeout of every store call (acquire attempt, renewal, release), put around the call by the
   * plugin; a call that times out counts as failed.
   * @default 1000
   */
  timeoutMs?: number
  /**
   * When the store fails or times out while a lock is taken: 'closed' refuses (503
   * DEPENDENCY_UNAVAILABLE); 'open' lets the caller go on WITHOUT a lock (a `degraded` handle,
   * a warning and a `store-error` event), relying on the database alone.
   * @default 'closed'
   */
  failMode?: FailMode
  /**
   * Observability hook; exceptions it throws are caught and logged (error).
   * @default undefined
   */
  onEvent?: WalletLockEventListener
  /**
   * Default lease of a lock. Routes and `withLock` renew it every `leaseMs / 3`.
   * @default 10000
   */
  leaseMs?: number
  /**
   * Default longest wait for busy resources, in total; 0 fails at once.
   * @default 1000
   */
  waitMs?: number
  /**
   * Longest pause between a waiter's re-checks of the store: the fallback when a hand-off
   * message is lost or a holder died (a waiter also re-checks when the holder's lease would end).
   * @default 250
   */
  pollMs?: number
  /**
   * For how long after the store granted a resource a release may pass it straight to the next
   * caller waiting in the same process (no store round trip) before other processes get their
   * turn; 0 = every release goes through the store.
   * @default 5
   */
  turnMs?: number
}

/** Everything but the store, validated and with defaults. */
export interface ResolvedOptions {
  timeoutMs: number
  failMode: FailMode
  onEvent: WalletLockEventListener | undefined
  leaseMs: number
  waitMs: number
  pollMs: number
  turnMs: number
}

/** Validates the options (not the store ones: see selectStore) and fills in the defaults. */
export function resolveOptions(options: WalletLockOptions): ResolvedOptions {
  const read = new OptionReader(PLUGIN, options)
  return {
    timeoutMs: read.integer('timeoutMs', 1000),
    failMode: read.oneOf('failMode', FAIL_MODES, 'closed'),
    onEvent: read.optionalFunction('onEvent'),
    leaseMs: read.integer('leaseMs', 10_000),
    waitMs: read.integer('waitMs', 1000, 0),
    pollMs: read.integer('pollMs', 250),
    turnMs: read.integer('turnMs', 5, 0)
  }
}
