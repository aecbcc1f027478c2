import type { Cluster } from 'ioredis'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { RedisLockStore, type RedisLockStoreOptions } from '../../src/redis-store.js'

/** An ioredis client that the test disconnects at teardown. */
export function redisClient(t: Test, url: string): Redis {
  const redis = new Redis(url)
  redis.on('error', () => {}) // fault tests provoke connection errors on purpose
  t.teardown(() => redis.disconnect())
  return redis
}

/** A Redis store on `redis`, closed at teardown. */
export function redisStore(t: Test, redis: Redis | Cluster, options: Omit<RedisLockStoreOptions, 'redis'>): RedisLockStore {
  const store = new RedisLockStore({ redis, ...options })
  t.teardown(() => store.close())
  return store
}
