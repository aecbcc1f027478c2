import { nextFence } from './fence-clock.js'
import type { WalletLock } from './wallet-lock.js'

/**
 * What failMode 'open' returns while the store is down: no lock at all. Its fences come from
 * the local clock (microseconds), comparable with the store's only as far as clocks agree;
 * the database's own row locks and checks are what keep such a request correct.
 */
export function degradedLock(resources: readonly string[], token: string): WalletLock {
  const fence = nextFence(0)
  return {
    resources,
    token,
    fence,
    fences: Object.fromEntries(resources.map((resource) => [resource, fence])),
    signal: new AbortController().signal,
    degraded: true,
    extend: async () => true,
    release: async () => true
  }
}
