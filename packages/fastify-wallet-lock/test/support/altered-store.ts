import { MemoryWalletLockStore, type WalletLockStore } from '../../src/index.js'

/** A memory store with some methods replaced; a replacement may call through to `inner`. */
export function alteredStore(
  alter: (inner: MemoryWalletLockStore) => Partial<WalletLockStore>
): WalletLockStore {
  const inner = new MemoryWalletLockStore()
  return {
    acquire: (request) => inner.acquire(request),
    handedOver: (resource, token, ms, signal) => inner.handedOver(resource, token, ms, signal),
    renew: (resource, token, leaseMs) => inner.renew(resource, token, leaseMs),
    release: (resource, token) => inner.release(resource, token),
    ...alter(inner)
  }
}
