import type { Cluster, Redis } from 'ioredis'
import { RedisSubscription } from './redis-subscription.js'
import { scripts, type CatalogCacheCommands } from './redis-scripts.js'
import type { CatalogStore, StoreSubscriber } from './store.js'

export interface RedisCatalogStoreOptions {
  /** An ioredis `Redis` or `Cluster`. It stays the caller's: the store never closes it. */
  redis: Redis | Cluster
  /** Key and channel prefix. Default `catalog:`. */
  prefix?: string
}

/** L2 on Redis or Redis Cluster. Keys: `<prefix>{<name>}:entry|generation|lock`; channel `<prefix>events`. */
export class RedisCatalogStore implements CatalogStore {
  readonly #redis: (Redis | Cluster) & CatalogCacheCommands
  readonly #prefix: string
  readonly #channel: string

  constructor(options: RedisCatalogStoreOptions) {
    this.#redis = options.redis as (Redis | Cluster) & CatalogCacheCommands
    this.#prefix = options.prefix ?? 'catalog:'
    this.#channel = `${this.#prefix}events`
    for (const [name, definition] of Object.entries(scripts)) this.#redis.defineCommand(name, definition)
  }

  async read(name: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#key(name, 'entry'))) ?? undefined
  }

  async lock(name: string, token: string, ttlMs: number): Promise<number | undefined> {
    const generation = await this.#redis.catalogCacheLock(this.#key(name, 'lock'), this.#key(name, 'generation'), token, ttlMs)
    return generation < 0 ? undefined : generation
  }

  async unlock(name: string, token: string): Promise<void> {
    await this.#redis.catalogCacheUnlock(this.#key(name, 'lock'), token)
  }

  async write(name: string, generation: number, payload: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.catalogCacheWrite(this.#key(name, 'entry'), this.#key(name, 'generation'), generation, payload, Math.ceil(ttlMs))) === 1
  }

  async invalidate(name: string, keepEntry: boolean): Promise<number> {
    return this.#redis.catalogCacheInvalidate(this.#key(name, 'entry'), this.#key(name, 'generation'), this.#key(name, 'lock'), keepEntry ? '1' : '0')
  }

  async publish(message: string): Promise<void> {
    await this.#redis.publish(this.#channel, message)
  }

  async subscribe(subscriber: StoreSubscriber, waitMs: number): Promise<() => Promise<void>> {
    const subscription = new RedisSubscription(this.#redis, this.#channel, subscriber)
    await subscription.started(waitMs)
    return () => subscription.close()
  }

  #key(name: string, part: 'entry' | 'generation' | 'lock'): string {
    return `${this.#prefix}{${name}}:${part}`
  }
}
