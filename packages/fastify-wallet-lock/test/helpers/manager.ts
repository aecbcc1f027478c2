import type { WalletLockEvent } from '../../src/events.js'
import { WalletLockManager, type FailMode } from '../../src/lock-manager.js'
import type { LockStore } from '../../src/store.js'

/** A manager on `store` that records its events and warnings. */
export function recordingManager(store: LockStore, options: { failMode?: FailMode, ttlMs?: number, waitMs?: number, turnMs?: number } = {}): { manager: WalletLockManager, events: WalletLockEvent[], warnings: string[] } {
  const events: WalletLockEvent[] = []
  const warnings: string[] = []
  const manager = new WalletLockManager({
    store,
    ttlMs: options.ttlMs ?? 5000,
    waitMs: options.waitMs ?? 2000,
    turnMs: options.turnMs ?? 5,
    failMode: options.failMode ?? 'closed',
    onEvent: (event) => events.push(event),
    log: { warn: (_obj, msg) => warnings.push(msg), error: (_obj, msg) => warnings.push(msg) }
  })
  return { manager, events, warnings }
}
