/** A held lock on one or more resources, as `acquire` returns it. */
export interface WalletLock {
  /** The locked resources, sorted and unique. */
  readonly resources: readonly string[]
  /** Cryptographically random (a v4 UUID) and unique to this acquisition; only its holder can renew or release. */
  readonly token: string
  /** The fencing token of the first resource in `resources`; the only one for a single resource. */
  readonly fence: number
  /** The fencing token of every resource. */
  readonly fences: Readonly<Record<string, number>>
  /**
   * Aborts when the lease is lost (expired unrenewed, or taken by another holder), with a
   * CONCURRENT_REQUEST error as its reason: stop, and do not commit.
   */
  readonly signal: AbortSignal
  /** True when failMode 'open' let the caller go on without a lock because the store was down. */
  readonly degraded: boolean
  /**
   * Resets the lease to `leaseMs` (default: the acquisition's). False when the lock is no longer
   * held; rejects with DEPENDENCY_UNAVAILABLE when the store cannot tell.
   */
  renew(leaseMs?: number): Promise<boolean>
  /**
   * Releases every resource and hands each to its next waiter. Idempotent, never rejects:
   * resolves false when the lease had been lost or the store could not be reached (the lease
   * then simply expires).
   */
  release(): Promise<boolean>
}
