/** One attempt to take one resource, as the plugin asks a store for it. */
export interface StoreAcquireRequest {
  resource: string
  /** Random, unique per acquisition; the only proof of ownership. */
  token: string
  leaseMs: number
  /**
   * 0: answer at once and queue nothing. Otherwise, when the resource is busy, queue the token
   * (first come first served; a token already queued keeps its place) for up to this long, so
   * that a release hands the resource to it.
   */
  waitMs: number
  /**
   * Callers of this process wait for the resource too: the grant may reserve further fences for
   * them (`lastFence`), which costs a store more (Redis: a clock read). A store may reserve fewer
   * or more; the built-in memory store reserves whenever its clock allows.
   */
  reserve: boolean
}

/**
 * The resource is the token's. `grantedAt` is the local `Date.now()` from which the lease runs,
 * estimated conservatively (no later than the store's grant). `lastFence` (default `fence`): the
 * grant also reserved the fences after `fence` up to this one, so the plugin may pass the lock to
 * its own queued callers, each with the next fence, without another store call; the store's next
 * grant is above it.
 */
export interface StoreGrant {
  acquired: true
  fence: number
  lastFence?: number
  grantedAt: number
}

/** Busy; `retryAfterMs` estimates when the current holder's lease ends. */
export interface StoreBusy {
  acquired: false
  retryAfterMs: number
}

export type StoreAcquireResult = StoreGrant | StoreBusy

/**
 * Where locks live. A store implements the whole protocol for ONE resource (ownership by token,
 * lease, a FIFO wait queue with prompt hand-off, fencing tokens strictly increasing per resource);
 * the plugin composes several resources in sorted order, and drives a wait: `acquire` (which
 * queues the token), `handedOver` until the resource is the token's or it is time to re-check
 * with `acquire`. Every method but `handedOver` is one atomic step (Redis: one script on keys
 * sharing a {hash tag}) and rejects when the store cannot be reached; the plugin puts its own
 * timeout (`timeoutMs`) around each call, so a store may simply await.
 */
export interface WalletLockStore {
  /**
   * Takes the resource if it is free and nobody is queued for it, or if it was handed to this
   * token while it was queued (the grant it was handed). Otherwise busy, queueing the token when
   * `waitMs` > 0.
   */
  acquire(request: StoreAcquireRequest): Promise<StoreAcquireResult>
  /**
   * Waits until the resource is handed to `token` (queued by `acquire`): resolves with the grant,
   * or with undefined after `ms` (the plugin then re-checks with `acquire`, which also covers a
   * missed hand-off and a holder that died), and rejects with `signal.reason` when it aborts.
   * Not a round trip: the plugin puts no timeout around it.
   */
  handedOver(
    resource: string,
    token: string,
    ms: number,
    signal: AbortSignal | undefined
  ): Promise<StoreGrant | undefined>
  /** Resets the lease to `leaseMs` if `token` still owns `resource`; false when it does not. */
  renew(resource: string, token: string, leaseMs: number): Promise<boolean>
  /**
   * Gives up `resource` if `token` owns it (handing it to the next live waiter) or leaves the wait
   * queue if `token` waits for it. True only when `token` still owned it (its lease had not
   * ended).
   */
  release(resource: string, token: string): Promise<boolean>
  /** Frees what the store opened (never the caller's Redis client). Called at onClose for a store the plugin made. */
  close?(): Promise<void>
}

export const STORE_METHODS = ['acquire', 'handedOver', 'renew', 'release'] as const

/**
 * Most fences one grant of the built-in stores reserves: the grantee gets the first, and its
 * process may hand the next ones to its own queued callers without asking the store again. A
 * grant reserves them only when the clock (µs) is past every fence handed out before, so fences
 * are never more than this far ahead of the clock (plus one per grant since, and a grant takes
 * longer than a microsecond).
 */
export const FENCES_PER_GRANT = 64
