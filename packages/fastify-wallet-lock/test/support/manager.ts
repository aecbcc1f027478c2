import type { Test } from 'tap'
import {
  RedisWalletLockStore,
  WalletLockManager,
  type FailMode,
  type RedisWalletLockStoreOptions,
  type WalletLockEvent,
  type WalletLockManagerOptions,
  type WalletLockStore
} from '../../src/index.js'

/** A manager on `store` that records its events and warnings. */
export function recordingManager(
  store: WalletLockStore,
  options: Partial<Omit<WalletLockManagerOptions, 'store' | 'onEvent' | 'log'>> & { failMode?: FailMode } = {}
): { manager: WalletLockManager; events: WalletLockEvent[]; warnings: string[] } {
  const events: WalletLockEvent[] = []
  const warnings: string[] = []
  const log = (_obj: unknown, msg?: string): void => {
    warnings.push(String(msg))
  }
  const manager = new WalletLockManager({
    store,
    timeoutMs: 1000,
    leaseMs: 5000,
    waitMs: 2000,
    pollMs: 250,
    turnMs: 5,
    failMode: 'closed',
    ...options,
    onEvent: (event) => events.push(event),
    log: { warn: log, error: log }
  })
  return { manager, events, warnings }
}

/** A Redis store, closed at teardown. */
export function redisStore(t: Test, options: RedisWalletLockStoreOptions): RedisWalletLockStore {
  const store = new RedisWalletLockStore(options)
  t.teardown(() => store.close())
  return store
}
