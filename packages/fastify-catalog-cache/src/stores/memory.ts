import { EventEmitter } from 'node:events'
import type { Subscription, SubscriptionListener } from '@moolah/plugin-kit'
import type { CatalogCacheStore } from './store.js'

interface Expiring<T> {
  value: T
  expiresAt: number
}

/**
 * An in-process store. Alone it adds nothing over L1; shared by several plugin
 * instances in one process it behaves like Redis (lock, generations, pub/sub), which
 * is what the memory-only test suite and single-process deployments rely on.
 */
export class MemoryCatalogCacheStore implements CatalogCacheStore {
  readonly #entries = new Map<string, Expiring<string>>()
  readonly #locks = new Map<string, Expiring<string>>()
  readonly #generations = new Map<string, number>()
  readonly #channel = new EventEmitter().setMaxListeners(0)

  async read(name: string): Promise<string | undefined> {
    return live(this.#entries, name)
  }

  async lock(name: string, token: string, leaseMs: number): Promise<number | undefined> {
    if (live(this.#locks, name) !== undefined) return undefined
    this.#locks.set(name, { value: token, expiresAt: Date.now() + leaseMs })
    return this.#generation(name)
  }

  async unlock(name: string, token: string): Promise<void> {
    if (this.#locks.get(name)?.value === token) this.#locks.delete(name)
  }

  async write(name: string, generation: number, payload: string, ttlMs: number): Promise<boolean> {
    if (this.#generation(name) !== generation) return false
    this.#entries.set(name, { value: payload, expiresAt: Date.now() + ttlMs })
    return true
  }

  async invalidate(name: string, keepEntry: boolean): Promise<number> {
    const generation = this.#generation(name) + 1
    this.#generations.set(name, generation)
    this.#locks.delete(name)
    if (!keepEntry) this.#entries.delete(name)
    return generation
  }

  async publish(message: string): Promise<void> {
    this.#channel.emit('message', message)
  }

  /** Subscribed at once and for good: nothing can be missed in one process. */
  subscribe(listener: SubscriptionListener): Subscription {
    const onMessage = (message: string): void => listener.onMessage(message)
    this.#channel.on('message', onMessage)
    return {
      subscribed: async () => true,
      close: async () => {
        this.#channel.off('message', onMessage)
      }
    }
  }

  #generation(name: string): number {
    return this.#generations.get(name) ?? 0
  }
}

function live<T>(map: Map<string, Expiring<T>>, key: string): T | undefined {
  const item = map.get(key)
  if (item === undefined) return undefined
  if (item.expiresAt > Date.now()) return item.value
  map.delete(key)
  return undefined
}
