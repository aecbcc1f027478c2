/** One resource's acquisition, as the lock manager asks a store for it. */
export interface StoreAcquireRequest {
  resource: string
  /** Random, unique per acquisition; the only proof of ownership. */
  token: string
  ttlMs: number
  /** 0 = answer at once; otherwise wait (queued, first come first served) up to this long. */
  waitMs: number
  /** Aborting it stops waiting; the store then leaves the queue and rejects with `signal.reason`. */
  signal?: AbortSignal | undefined
  /** Called when the resource is found busy (maybe more than once). */
  onContended?: (() => void) | undefined
}

export type StoreAcquireResult =
  /**
   * `grantedAt` is the local `Date.now()` from which the lease's TTL runs, estimated
   * conservatively. `lastFence` (default `fence`): the grant also reserved the fences after
   * `fence` up to this one, so the manager may pass the lock to its own queued callers, each with
   * the next fence, without another store call; the store's next grant is above it.
   */
  | { acquired: true, fence: number, lastFence?: number, grantedAt: number }
  /** Busy past `waitMs`; `retryAfterMs` estimates when the current holder's lease ends. */
  | { acquired: false, retryAfterMs: number }

/**
 * Where locks live. A store implements the whole protocol for ONE resource (ownership
 * by token, TTL, a FIFO wait queue with prompt hand-off, fencing); the manager composes
 * several resources in sorted order. Store calls reject when the store cannot be reached.
 */
export interface LockStore {
  acquire(request: StoreAcquireRequest): Promise<StoreAcquireResult>
  /** Resets the TTL if `token` still owns `resource`; false when it does not. */
  extend(resource: string, token: string, ttlMs: number): Promise<boolean>
  /**
   * Gives up `resource` if `token` owns it (handing it to the next waiter) or leaves the wait
   * queue if `token` waits for it. True only when `token` owned it (no other holder had taken
   * over: a Redis store also says true for a lease that ended unnoticed by anyone).
   */
  release(resource: string, token: string): Promise<boolean>
  /** Frees what the store opened (never the caller's Redis client). */
  close(): Promise<void>
}
