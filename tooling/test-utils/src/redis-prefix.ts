import { Redis } from 'ioredis'
import { redisUrl } from './defaults.js'
import type { Teardown } from './teardown.js'
import { uniqueName } from './unique-name.js'

export interface RedisPrefix {
  /** Ends with `:`; every key a test writes should start with it. */
  prefix: string
  /** The Redis the prefix lives on (`REDIS_URL`, default `redis://127.0.0.1:6379`). */
  url: string
}

/**
 * A key prefix unique to the calling test file, so files can run in parallel against
 * one shared Redis. Every key under the prefix is deleted at teardown.
 */
export function redisPrefix(t: Teardown): RedisPrefix {
  const url = redisUrl()
  const prefix = `test:${uniqueName(':')}:`
  t.teardown(() => deleteKeys(url, `${prefix}*`))
  return { prefix, url }
}

async function deleteKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      if (keys.length > 0) await redis.unlink(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}
