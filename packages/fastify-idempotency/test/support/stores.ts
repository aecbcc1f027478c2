import { startRedisCluster, redisPrefix } from '@moolah/test-utils'
import { Redis } from 'ioredis'
import { MemoryStore, RedisStore, type IdempotencyStore } from '../../src/index.js'

type Teardown = { teardown(fn: () => unknown): void }

/** A backend several app instances can share; each `newStore()` is what one instance would create. */
export interface StoreBackend {
  name: string
  prefix: string
  newStore(): IdempotencyStore
}

export async function memoryBackend(_t: Teardown): Promise<StoreBackend> {
  const store = new MemoryStore()
  return { name: 'memory', prefix: 'idempotency:', newStore: () => store }
}

export async function redisBackend(t: Teardown): Promise<StoreBackend> {
  const { prefix, url } = redisPrefix(t)
  return {
    name: 'redis',
    prefix,
    newStore () {
      const client = new Redis(url)
      t.teardown(() => client.disconnect())
      return new RedisStore({ client })
    }
  }
}

export async function clusterBackend(t: Teardown): Promise<StoreBackend> {
  const cluster = await startRedisCluster(t, { masters: 3 })
  return { name: 'cluster', prefix: 'idempotency:', newStore: () => new RedisStore({ client: cluster.createClient() }) }
}
