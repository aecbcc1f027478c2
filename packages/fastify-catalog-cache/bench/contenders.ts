import { createCache } from 'async-cache-dedupe'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { catalogCache } from '../src/index.js'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
export type Loader = () => Promise<unknown>

/** One cache library, set up the way an app would wire it: memory L1 in front of Redis. */
export interface Contender {
  get(key: string): Promise<unknown>
  close(): Promise<void>
}

export const CONTENDERS = ['moolah', 'bentocache', 'async-cache-dedupe'] as const
export type ContenderName = (typeof CONTENDERS)[number]

export async function createContender(name: ContenderName, prefix: string, load: Loader): Promise<Contender> {
  if (name === 'moolah') return moolah(prefix, load)
  if (name === 'bentocache') return bento(prefix, load)
  return dedupe(prefix, load)
}

/** Our plugin on a Fastify instance (not listening); `keys` are defined up front. */
export async function moolahApp(
  prefix: string,
  load: Loader,
  keys: string[],
  options: { l1MaxEntries?: number } = {}
): Promise<{ app: FastifyInstance; redis: Redis }> {
  const redis = new Redis(REDIS_URL)
  const app = Fastify()
  await app.register(catalogCache, { redis, prefix, ttl: 3600, ...options })
  for (const key of keys) app.catalogCache.define(key, { load })
  return { app, redis }
}

async function moolah(prefix: string, load: Loader): Promise<Contender> {
  const { app, redis } = await moolahApp(prefix, load, ['catalog'])
  return {
    get: (key) => app.catalogCache.get(key).then((result) => result.value),
    close: async () => {
      await app.close()
      redis.disconnect()
    }
  }
}

export function bentoCache(prefix: string): BentoCache<{ cache: ReturnType<typeof bentostore> }> {
  const connection = new URL(REDIS_URL)
  const redis = { host: connection.hostname, port: Number(connection.port) }
  return new BentoCache({
    default: 'cache',
    prefix,
    stores: {
      cache: bentostore()
        .useL1Layer(memoryDriver({ maxSize: '100mb' }))
        .useL2Layer(redisDriver({ connection: redis }))
        .useBus(redisBusDriver({ connection: redis }))
    }
  })
}

async function bento(prefix: string, load: Loader): Promise<Contender> {
  const cache = bentoCache(prefix)
  return {
    get: (key) => cache.getOrSet({ key, factory: load, ttl: '1h' }),
    close: () => cache.disconnectAll()
  }
}

export function dedupeCache(prefix: string, load: Loader) {
  const client = new Redis(REDIS_URL, { keyPrefix: prefix })
  const cache = createCache({ ttl: 3600, storage: { type: 'redis', options: { client } } }).define(
    'catalog',
    load
  )
  return { cache: cache as typeof cache & { catalog: (key: string) => Promise<unknown> }, client }
}

async function dedupe(prefix: string, load: Loader): Promise<Contender> {
  const { cache, client } = dedupeCache(prefix, load)
  return {
    get: (key) => cache.catalog(key),
    close: async () => {
      client.disconnect()
    }
  }
}
