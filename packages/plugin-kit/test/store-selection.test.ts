import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { selectStore, type RedisClient, type StoreKind } from '../src/index.js'

interface Store {
  kind: string
  get(): Promise<string>
  close?(): Promise<void>
}

/** A kind whose stores record how they were made and whether they were closed. */
function kind(closable = true): StoreKind<Store> & {
  made: Array<{ redis?: RedisClient; prefix?: string | undefined }>
  closed: string[]
} {
  const made: Array<{ redis?: RedisClient; prefix?: string | undefined }> = []
  const closed: string[] = []
  const store = (name: string): Store => ({
    kind: name,
    get: async () => name,
    ...(closable
      ? {
          close: async () => {
            closed.push(name)
          }
        }
      : {})
  })
  return {
    plugin: '@moolah/x',
    name: 'XStore',
    methods: ['get'],
    memory: () => {
      made.push({})
      return store('memory')
    },
    redis: (options) => {
      made.push(options)
      return store('redis')
    },
    made,
    closed
  }
}

function app(t: Test): FastifyInstance {
  const fastify = Fastify()
  t.teardown(() => fastify.close())
  return fastify
}

function client(t: Test): Redis {
  const redis = new Redis({ lazyConnect: true })
  t.teardown(() => redis.disconnect())
  return redis
}

t.test('nothing given: a memory store, closed with the app', async (t) => {
  const fastify = app(t)
  const memory = kind()
  t.equal(selectStore(fastify, {}, memory).kind, 'memory')
  await fastify.close()
  t.same(memory.closed, ['memory'])
})

t.test('a store without close() needs no closing', async (t) => {
  const fastify = app(t)
  t.equal(selectStore(fastify, {}, kind(false)).kind, 'memory')
  await fastify.close()
})

t.test('options.redis: a Redis store on it, with the prefix as given', async (t) => {
  const redis = client(t)
  const redisKind = kind()
  t.equal(selectStore(app(t), { redis, prefix: 'app:' }, redisKind).kind, 'redis')
  t.equal(redisKind.made[0]?.redis, redis)
  t.equal(redisKind.made[0]?.prefix, 'app:')
  selectStore(app(t), { redis }, redisKind)
  t.equal(redisKind.made[1]?.prefix, undefined, 'no prefix: the store applies its own default')
})

t.test('fastify.redis (@fastify/redis) when no client is given', async (t) => {
  const fastify = app(t)
  const redis = client(t)
  fastify.decorate('redis', redis)
  const redisKind = kind()
  t.equal(selectStore(fastify, {}, redisKind).kind, 'redis')
  t.equal(redisKind.made[0]?.redis, redis)
  const namespaced = app(t)
  namespaced.decorate('redis', { cache: redis })
  t.throws(() => selectStore(namespaced, {}, kind()), {
    name: 'TypeError',
    message:
      '@moolah/x: fastify.redis must be an ioredis Redis or Cluster client (@fastify/redis with a namespace? pass options.redis)'
  })
})

t.test("a custom store is used as given and stays its owner's", async (t) => {
  const fastify = app(t)
  let closed = false
  const custom: Store = {
    kind: 'custom',
    get: async () => 'custom',
    close: async () => {
      closed = true
    }
  }
  t.equal(selectStore(fastify, { store: custom }, kind()), custom)
  await fastify.close()
  t.notOk(closed)
})

t.test('wrong or ignored options are TypeErrors at registration', async (t) => {
  const redis = client(t)
  const custom: Store = { kind: 'custom', get: async () => 'custom' }
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ store: {} }, '@moolah/x: options.store must implement XStore; missing get'],
    [{ store: null }, '@moolah/x: options.store must implement XStore; missing get'],
    [
      { store: custom, prefix: 'app:' },
      "@moolah/x: options.prefix would be ignored next to options.store; give it to the store's constructor instead"
    ],
    [
      { store: custom, redis },
      "@moolah/x: options.redis would be ignored next to options.store; give it to the store's constructor instead"
    ],
    [{ prefix: 7 }, '@moolah/x: options.prefix must be a string without { or }, got 7'],
    [{ prefix: 'app:{x}:' }, '@moolah/x: options.prefix must be a string without { or }, got "app:{x}:"'],
    [{ redis: {} }, '@moolah/x: options.redis must be an ioredis Redis or Cluster client'],
    [{ redis: null }, '@moolah/x: options.redis must be an ioredis Redis or Cluster client']
  ]
  for (const [options, message] of cases)
    t.throws(() => selectStore(app(t), options as never, kind()), { name: 'TypeError', message }, message)
})
