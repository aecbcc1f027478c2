import {
  RedisSubscriber,
  type RedisClient,
  type Subscription,
  type SubscriptionListener
} from '@moolah/plugin-kit'
import type { CatalogCacheStore } from './store.js'

export interface RedisCatalogCacheStoreOptions {
  /** An ioredis `Redis` or `Cluster`. It stays the caller's: the store never closes it. */
  redis: RedisClient
  /**
   * Key and channel prefix.
   * @default 'catalog:'
   */
  prefix?: string | undefined
}

/**
 * Lua scripts, registered once per client with defineCommand (EVALSHA with a NOSCRIPT
 * fallback). Every script touches only the keys of one catalog, which share a
 * {hash tag}, so they run on Redis Cluster too.
 */
const scripts = {
  // KEYS: lock, generation. ARGV: token, lease ms. → generation when taken, -1 when held by someone else.
  catalogCacheLock: {
    numberOfKeys: 2,
    lua: `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
return -1`
  },
  // KEYS: lock. ARGV: token. Compare-and-delete, so an expired holder cannot free a new holder's lock.
  catalogCacheUnlock: {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`
  },
  // KEYS: entry, generation. ARGV: generation, payload, ttl ms. → 1 stored, 0 invalidated meanwhile.
  catalogCacheWrite: {
    numberOfKeys: 2,
    lua: `if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`
  },
  // KEYS: entry, generation, lock. ARGV: '1' to keep the entry. → the new generation.
  catalogCacheInvalidate: {
    numberOfKeys: 3,
    lua: `local generation = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[3])
if ARGV[1] ~= '1' then redis.call('DEL', KEYS[1]) end
return generation`
  }
} as const

/** The client's commands this store calls: the scripts it defines, and two of ioredis' own. */
interface CatalogCacheCommands {
  get(key: string): Promise<string | null>
  publish(channel: string, message: string): Promise<number>
  catalogCacheLock(lock: string, generation: string, token: string, leaseMs: number): Promise<number>
  catalogCacheUnlock(lock: string, token: string): Promise<number>
  catalogCacheWrite(
    entry: string,
    generation: string,
    expected: number,
    payload: string,
    ttlMs: number
  ): Promise<number>
  catalogCacheInvalidate(
    entry: string,
    generation: string,
    lock: string,
    keepEntry: '1' | '0'
  ): Promise<number>
}

const SUBSCRIBER_CONNECTION_NAME = 'moolah-catalog-cache-subscriber'

/** L2 on Redis or Redis Cluster. Keys: `<prefix>{<name>}:entry|generation|lock`; channel `<prefix>events`. */
export class RedisCatalogCacheStore implements CatalogCacheStore {
  readonly #redis: RedisClient & CatalogCacheCommands
  readonly #prefix: string
  readonly #channel: string

  constructor(options: RedisCatalogCacheStoreOptions) {
    this.#redis = options.redis as RedisClient & CatalogCacheCommands
    this.#prefix = options.prefix ?? 'catalog:'
    this.#channel = `${this.#prefix}events`
    for (const [name, definition] of Object.entries(scripts)) this.#redis.defineCommand(name, definition)
  }

  async read(name: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#key(name, 'entry'))) ?? undefined
  }

  async lock(name: string, token: string, leaseMs: number): Promise<number | undefined> {
    const generation = await this.#redis.catalogCacheLock(
      this.#key(name, 'lock'),
      this.#key(name, 'generation'),
      token,
      leaseMs
    )
    return generation < 0 ? undefined : generation
  }

  async unlock(name: string, token: string): Promise<void> {
    await this.#redis.catalogCacheUnlock(this.#key(name, 'lock'), token)
  }

  async write(name: string, generation: number, payload: string, ttlMs: number): Promise<boolean> {
    return (
      (await this.#redis.catalogCacheWrite(
        this.#key(name, 'entry'),
        this.#key(name, 'generation'),
        generation,
        payload,
        Math.ceil(ttlMs)
      )) === 1
    )
  }

  async invalidate(name: string, keepEntry: boolean): Promise<number> {
    return this.#redis.catalogCacheInvalidate(
      this.#key(name, 'entry'),
      this.#key(name, 'generation'),
      this.#key(name, 'lock'),
      keepEntry ? '1' : '0'
    )
  }

  async publish(message: string): Promise<void> {
    await this.#redis.publish(this.#channel, message)
  }

  /** A dedicated connection (on a Cluster, to one master), opened now and closed by the subscription's close(). */
  subscribe(listener: SubscriptionListener): Subscription {
    return new RedisSubscriber({
      redis: this.#redis,
      channel: this.#channel,
      connectionName: SUBSCRIBER_CONNECTION_NAME,
      listener
    })
  }

  #key(name: string, part: 'entry' | 'generation' | 'lock'): string {
    return `${this.#prefix}{${name}}:${part}`
  }
}
