import { MemoryLockStore } from '../../src/memory-store.js'
import type { LockStore } from '../../src/store.js'

/** A memory store with some methods replaced; a replacement may call through to `inner`. */
export function alteredStore(alter: (inner: MemoryLockStore) => Partial<LockStore>): LockStore {
  const inner = new MemoryLockStore()
  return {
    acquire: (request) => inner.acquire(request),
    extend: (resource, token, ttlMs) => inner.extend(resource, token, ttlMs),
    release: (resource, token) => inner.release(resource, token),
    close: () => inner.close(),
    ...alter(inner)
  }
}
