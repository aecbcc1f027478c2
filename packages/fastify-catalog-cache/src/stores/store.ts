import type { Subscription, SubscriptionListener } from '@moolah/plugin-kit'

/**
 * The L2 seam: a store shared by every instance. Per catalog name it keeps the encoded
 * entry, a generation counter (bumped by invalidate/refresh so that a load started
 * before an invalidation cannot write its old result afterwards) and a recompute lock.
 * It also carries the invalidation channel. Each method must be atomic per name
 * (Redis: one Lua script over keys sharing a {hash tag}). The plugin puts its own
 * timeout around every call, so a store may simply await.
 */
export interface CatalogCacheStore {
  /** The encoded entry, or undefined when absent or expired. */
  read(name: string): Promise<string | undefined>
  /** Takes the recompute lock for `leaseMs` if free; returns the current generation when taken, undefined when someone else holds it. */
  lock(name: string, token: string, leaseMs: number): Promise<number | undefined>
  /** Releases the lock only if `token` still holds it (compare-and-delete). */
  unlock(name: string, token: string): Promise<void>
  /** Stores `payload` for `ttlMs` only if the generation is still `generation`; false when an invalidation happened meanwhile. */
  write(name: string, generation: number, payload: string, ttlMs: number): Promise<boolean>
  /** Bumps the generation and frees the lock; deletes the entry too unless `keepEntry`. Returns the new generation. */
  invalidate(name: string, keepEntry: boolean): Promise<number>
  /** Sends `message` to every subscriber (every instance, this one included). */
  publish(message: string): Promise<void>
  /**
   * Starts receiving messages. `listener.onSubscribed` is called whenever the subscription is
   * (re)established, because messages may have been missed while it was down.
   */
  subscribe(listener: SubscriptionListener): Subscription
}

export const STORE_METHODS = [
  'read',
  'lock',
  'unlock',
  'write',
  'invalidate',
  'publish',
  'subscribe'
] as const
