import { grantFences } from './fence-clock.js'
import type { LockStore, StoreAcquireRequest, StoreAcquireResult } from './store.js'
import { waitInLine } from './wait-in-line.js'

interface Owner {
  token: string
  expiresAt: number
  /** Hands the resource on when the lease runs out without a release. */
  expiry: NodeJS.Timeout
}

interface Fences {
  fence: number
  lastFence: number
}

interface Waiter {
  token: string
  ttlMs: number
  grant(fences: Fences): void
}

interface Slot {
  owner: Owner | undefined
  queue: Waiter[]
}

/**
 * Locks for one process, with the Redis store's semantics: token ownership, TTL expiry,
 * a FIFO wait queue with direct hand-off on release, and fencing tokens. Several managers
 * (several Fastify instances) may share one memory store.
 */
export class MemoryLockStore implements LockStore {
  readonly #slots = new Map<string, Slot>()
  /** One counter for every resource (the last fence reserved): still strictly increasing per resource. */
  #lastFence = 0

  async acquire({ resource, token, ttlMs, waitMs, signal, onContended }: StoreAcquireRequest): Promise<StoreAcquireResult> {
    signal?.throwIfAborted()
    const slot = this.#slot(resource)
    if (slot.owner === undefined && slot.queue.length === 0) return this.#granted(this.#grant(resource, slot, token, ttlMs))
    onContended?.()
    // whoever waits has an owner in front of it: a release or an expiry hands over at once
    const retryAfterMs = () => Math.max(0, (slot.owner as Owner).expiresAt - Date.now())
    if (waitMs <= 0) return { acquired: false, retryAfterMs: retryAfterMs() }

    return await waitInLine<Waiter, StoreAcquireResult>(
      slot.queue,
      (wake) => ({ token, ttlMs, grant: (fences) => wake(this.#granted(fences)) }),
      waitMs,
      signal,
      () => ({ acquired: false, retryAfterMs: retryAfterMs() })
    )
  }

  async extend(resource: string, token: string, ttlMs: number): Promise<boolean> {
    const slot = this.#slots.get(resource)
    if (slot?.owner?.token !== token) return false
    this.#setOwner(resource, slot, token, ttlMs)
    return true
  }

  async release(resource: string, token: string): Promise<boolean> {
    const slot = this.#slots.get(resource)
    if (slot?.owner?.token !== token) return false // a waiter's own timeout already dequeued it
    clearTimeout(slot.owner.expiry)
    slot.owner = undefined
    this.#handOff(resource, slot)
    return true
  }

  async close(): Promise<void> {
    // a slot exists only while someone owns the resource
    for (const slot of this.#slots.values()) clearTimeout((slot.owner as Owner).expiry)
    this.#slots.clear()
  }

  #slot(resource: string): Slot {
    let slot = this.#slots.get(resource)
    if (slot === undefined) {
      slot = { owner: undefined, queue: [] }
      this.#slots.set(resource, slot)
    }
    return slot
  }

  /** Makes `token` the owner; returns its fence and the last one the grant reserves. */
  #grant(resource: string, slot: Slot, token: string, ttlMs: number): Fences {
    const fences = grantFences(this.#lastFence)
    this.#lastFence = fences.lastFence
    this.#setOwner(resource, slot, token, ttlMs)
    return fences
  }

  #granted(fences: Fences): StoreAcquireResult {
    return { acquired: true, ...fences, grantedAt: Date.now() }
  }

  #setOwner(resource: string, slot: Slot, token: string, ttlMs: number): void {
    if (slot.owner !== undefined) clearTimeout(slot.owner.expiry)
    const expiry = setTimeout(() => {
      slot.owner = undefined
      this.#handOff(resource, slot)
    }, ttlMs)
    expiry.unref()
    slot.owner = { token, expiresAt: Date.now() + ttlMs, expiry }
  }

  /** The next waiter in line gets the resource; with nobody waiting the slot is forgotten. */
  #handOff(resource: string, slot: Slot): void {
    const next = slot.queue[0]
    if (next === undefined) {
      this.#slots.delete(resource)
      return
    }
    next.grant(this.#grant(resource, slot, next.token, next.ttlMs))
  }
}
