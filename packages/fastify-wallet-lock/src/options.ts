import type { RedisClient } from '@moolah/plugin-kit'
import type { WalletLockEventListener } from './events.js'
import type { FailMode } from './lock-manager.js'
import type { LockStore } from './store.js'
import { checkInteger } from './validate.js'

export interface WalletLockPluginOptions {
  /** A lock store. Default: a Redis store on `redis` (or `fastify.redis`), else a memory store. */
  store?: LockStore
  /** An ioredis `Redis` or `Cluster` for the default Redis store; never closed by the plugin. */
  redis?: RedisClient
  /** Prefix of every Redis key and channel. Default `wallet-lock:`. */
  prefix?: string
  /** Longest wait for one Redis call. Default 1000 ms. */
  timeoutMs?: number
  /** What to do when the store fails: 'closed' (503 DEPENDENCY_UNAVAILABLE, default) or 'open' (go on unlocked). */
  failMode?: FailMode
  /** Receives every lock event; exceptions it throws are caught and logged. */
  onEvent?: WalletLockEventListener
  /** Default lease. Default 10000 ms. */
  ttlMs?: number
  /** Default longest wait for busy resources. Default 1000 ms. */
  waitMs?: number
  /** Longest pause between a Redis waiter's re-checks (the fallback for a lost hand-off message). Default 250 ms. */
  pollMs?: number
  /**
   * For how long after the store granted a resource a release may pass it straight to the next
   * caller waiting in the same process (no store round trip) before other processes get their
   * turn; 0 = every release goes through the store. Default 5 ms.
   */
  turnMs?: number
}

export type ResolvedOptions = Required<Omit<WalletLockPluginOptions, 'store' | 'redis' | 'onEvent'>> & Pick<WalletLockPluginOptions, 'store' | 'redis' | 'onEvent'>

const METHODS: Record<string, string[]> = {
  store: ['acquire', 'extend', 'release', 'close'],
  redis: ['defineCommand', 'duplicate']
}

/** Checks the options at registration, with messages that name the bad option. */
export function resolveOptions(options: WalletLockPluginOptions): ResolvedOptions {
  for (const [name, methods] of Object.entries(METHODS)) {
    const value = (options as Record<string, unknown>)[name]
    if (value !== undefined && (typeof value !== 'object' || value === null || methods.some((method) => typeof (value as Record<string, unknown>)[method] !== 'function'))) {
      throw new TypeError(`wallet-lock: ${name} must be an object with ${methods.join(', ')} methods`)
    }
  }
  const prefix = options.prefix ?? 'wallet-lock:'
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) throw new TypeError(`wallet-lock: prefix must be a string without { or } (the resource is the hash tag), got ${String(prefix)}`)
  const failMode = options.failMode ?? 'closed'
  if (failMode !== 'closed' && failMode !== 'open') throw new TypeError(`wallet-lock: failMode must be 'closed' or 'open', got ${String(failMode)}`)
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw new TypeError('wallet-lock: onEvent must be a function')
  const resolved = { ...options, prefix, failMode, timeoutMs: options.timeoutMs ?? 1000, ttlMs: options.ttlMs ?? 10_000, waitMs: options.waitMs ?? 1000, pollMs: options.pollMs ?? 250, turnMs: options.turnMs ?? 5 }
  checkInteger('timeoutMs', resolved.timeoutMs, 1)
  checkInteger('ttlMs', resolved.ttlMs, 1)
  checkInteger('waitMs', resolved.waitMs, 0)
  checkInteger('pollMs', resolved.pollMs, 1)
  checkInteger('turnMs', resolved.turnMs, 0)
  return resolved
}
