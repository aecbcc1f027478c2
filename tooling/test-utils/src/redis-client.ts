import { Redis, type RedisOptions } from 'ioredis'
import type { Teardown } from './teardown.js'

/**
 * An ioredis client on `url`, disconnected at teardown. Its connection errors are swallowed:
 * fault tests stop and pause their server on purpose, and the calls that fail say so anyway.
 */
export function redisClient(t: Teardown, url: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, options)
  redis.on('error', () => {})
  t.teardown(() => redis.disconnect())
  return redis
}
