import { waitFor } from '../wait.js'
import {
  FENCES_PER_GRANT,
  type StoreAcquireRequest,
  type StoreAcquireResult,
  type StoreGrant,
  type WalletLockStore
} from './store.js'

interface Holder {
  token: string
  grant: StoreGrant
  expiresAt: number
  /** Hands the resource on when the lease runs out without a release. */
  expiry: NodeJS.Timeout
}

interface Waiter {
  token: string
  leaseMs: number
  /** Past it, the waiter has given up: it is skipped. */
  deadline: number
  /** Set while its `handedOver` waits. */
  wake: ((grant: StoreGrant) => void) | undefined
}

/** A slot exists only while someone holds the resource. */
interface Slot {
  holder: Holder
  queue: Waiter[]
}

/**
 * Locks for one process, with the Redis store's semantics: token ownership, lease expiry, a FIFO
 * wait queue with direct hand-off on release, and fencing tokens. Several plugin instances (or
 * managers) may share one memory store.
 */
export class MemoryWalletLockStore implements WalletLockStore {
  readonly #slots = new Map<string, Slot>()
  /** One counter for every resource (the last fence reserved): still strictly increasing per resource. */
  #lastFence = 0

  async acquire({ resource, token, leaseMs, waitMs }: StoreAcquireRequest): Promise<StoreAcquireResult> {
    const slot = this.#slots.get(resource)
    if (slot === undefined) {
      this.#slots.set(resource, { holder: this.#grant(resource, token, leaseMs), queue: [] })
      return (this.#slots.get(resource) as Slot).holder.grant
    }
    if (slot.holder.token === token) return slot.holder.grant // handed over while it was queued
    if (waitMs > 0) {
      const queued = slot.queue.find((waiter) => waiter.token === token)
      if (queued === undefined)
        slot.queue.push({ token, leaseMs, deadline: Date.now() + waitMs, wake: undefined })
      else queued.deadline = Date.now() + waitMs
    }
    return { acquired: false, retryAfterMs: Math.max(0, slot.holder.expiresAt - Date.now()) }
  }

  async handedOver(
    resource: string,
    token: string,
    ms: number,
    signal: AbortSignal | undefined
  ): Promise<StoreGrant | undefined> {
    const slot = this.#slots.get(resource)
    if (slot?.holder.token === token) return slot.holder.grant
    const waiter = slot?.queue.find((queued) => queued.token === token)
    return await waitFor<StoreGrant | undefined>(
      (wake) => {
        if (waiter !== undefined) waiter.wake = wake
        return () => {
          if (waiter !== undefined) waiter.wake = undefined
        }
      },
      ms,
      signal,
      () => undefined
    )
  }

  async renew(resource: string, token: string, leaseMs: number): Promise<boolean> {
    const slot = this.#slots.get(resource)
    if (slot?.holder.token !== token) return false
    clearTimeout(slot.holder.expiry)
    slot.holder.expiresAt = Date.now() + leaseMs
    slot.holder.expiry = this.#expiry(resource, leaseMs)
    return true
  }

  async release(resource: string, token: string): Promise<boolean> {
    const slot = this.#slots.get(resource)
    if (slot === undefined) return false
    if (slot.holder.token !== token) {
      slot.queue = slot.queue.filter((waiter) => waiter.token !== token)
      return false
    }
    clearTimeout(slot.holder.expiry)
    this.#handOff(resource, slot)
    return true
  }

  async close(): Promise<void> {
    for (const slot of this.#slots.values()) clearTimeout(slot.holder.expiry)
    this.#slots.clear()
  }

  /** The first waiter still within its deadline gets the resource; with none, the slot is forgotten. */
  #handOff(resource: string, slot: Slot): void {
    const now = Date.now()
    let next: Waiter | undefined
    while ((next = slot.queue.shift()) !== undefined && next.deadline <= now);
    if (next === undefined) {
      this.#slots.delete(resource)
      return
    }
    slot.holder = this.#grant(resource, next.token, next.leaseMs)
    next.wake?.(slot.holder.grant)
  }

  /** A new holder: `max(last + 1, now in µs)`, reserving a block when the clock is past every fence handed out. */
  #grant(resource: string, token: string, leaseMs: number): Holder {
    const now = Date.now()
    const fence = Math.max(this.#lastFence + 1, Math.floor(now * 1000))
    this.#lastFence = fence === this.#lastFence + 1 ? fence : fence + FENCES_PER_GRANT - 1
    return {
      token,
      grant: { acquired: true, fence, lastFence: this.#lastFence, grantedAt: now },
      expiresAt: now + leaseMs,
      expiry: this.#expiry(resource, leaseMs)
    }
  }

  #expiry(resource: string, leaseMs: number): NodeJS.Timeout {
    // renew, release and close clear it first: when it fires, the slot is still this holder's
    return setTimeout(() => this.#handOff(resource, this.#slots.get(resource) as Slot), leaseMs).unref()
  }
}
