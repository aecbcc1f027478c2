import type { WalletLockEvent } from './events.js'
import type { LocalGate } from './local-gate.js'
import type { LockStore } from './store.js'

/** What a manager shares with the locks it hands out. */
export interface LockContext {
  readonly store: LockStore
  readonly gate: LocalGate
  emit(event: WalletLockEvent): void
}
