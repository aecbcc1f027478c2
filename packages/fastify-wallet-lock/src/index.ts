export {
  walletLock,
  walletLock as default,
  type WalletLockResolver,
  type WalletLockRouteConfig
} from './plugin.js'
export { WalletLockManager, type AcquireOptions, type WalletLockManagerOptions } from './lock-manager.js'
export type { WalletLock } from './wallet-lock.js'
export type { WalletLockOptions } from './options.js'
export type { StoreOperation, WalletLockEvent, WalletLockEventListener } from './events.js'
export type {
  StoreAcquireRequest,
  StoreAcquireResult,
  StoreBusy,
  StoreGrant,
  WalletLockStore
} from './stores/store.js'
export { MemoryWalletLockStore } from './stores/memory.js'
export { RedisWalletLockStore, type RedisWalletLockStoreOptions } from './stores/redis.js'
export { ClientClosedRequestError, ConcurrentRequestError, LockLostError } from './errors.js'
export { DependencyUnavailableError, type FailMode } from '@moolah/plugin-kit'
