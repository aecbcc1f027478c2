import { startRedis, waitUntil, type ThrowawayRedis } from '@moolah/test-utils'
import { Redis } from 'ioredis'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { CatalogCacheEvent } from '../src/index.js'
import { CountingLoader, createApp } from './support/app.js'

const TIMEOUT_MS = 200

function client(t: Test, server: ThrowawayRedis): Redis {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 })
  redis.on('error', () => {})
  t.teardown(() => redis.disconnect())
  return redis
}

async function instance(
  t: Test,
  server: ThrowawayRedis,
  options: { leaseMs?: number; loadTimeoutMs?: number } = {}
) {
  const events: CatalogCacheEvent[] = []
  const loader = new CountingLoader()
  const redis = client(t, server)
  const app = await createApp(t, { redis, prefix: 'faults:', timeoutMs: TIMEOUT_MS, events, ...options })
  app.catalogCache.define('flash', { load: loader.load, ttl: 1, staleWhileRevalidate: 60, staleIfError: 60 })
  app.catalogCache.define('cold', { load: loader.load, ttl: 60 })
  return { app, events, loader, redis }
}

t.test(
  'Redis paused (hung network): answers come from L1 and the loader after the store timeout; recovery after resume',
  async (t) => {
    const server = await startRedis(t)
    const { app, events } = await instance(t, server)
    const warm = await app.inject('/catalog/flash')
    t.equal(warm.statusCode, 200)
    server.pause()
    t.teardown(() => {
      try {
        server.resume()
      } catch {
        /* already stopped by its own teardown */
      }
    })
    const storeErrors = () =>
      events.filter((event) => event.type === 'store-error' && event.operation === 'read').length
    const since = (from: number) =>
      events
        .slice(from)
        .map((event) => (event.type === 'store-error' ? `store-error ${event.operation}` : event.type))

    const hit = await app.inject('/catalog/flash')
    t.match(hit.headers['cache-status'], /^moolah-catalog; hit; ttl=\d+$/, 'L1 needs no Redis')

    const beforeCold = events.length
    const cold = await app.inject('/catalog/cold')
    t.equal(cold.statusCode, 200, 'a catalog missing from L1 is loaded directly')
    t.same(since(beforeCold), ['store-error read', 'load', 'miss'], 'after the store read timed out')
    // A store call made by the hit would have timed out before the cold read (same timeout, started first)
    t.equal(storeErrors(), 1, 'the hit sent nothing to Redis')

    await sleep(1050)
    const beforeStale = events.length
    const stale = await app.inject('/catalog/flash')
    t.match(stale.headers['cache-status'], /fwd=stale/, 'stale-while-revalidate copy at once')
    await waitUntil(
      async () => String((await app.inject('/catalog/flash')).headers['cache-status']).includes('hit'),
      'the background load to finish without Redis'
    )
    t.same(
      [...new Set(since(beforeStale))],
      ['stale', 'store-error read', 'load', 'hit'],
      'answered before the background read timed out'
    )

    server.resume()
    await app.catalogCache.invalidate('cold')
    const reloaded = await app.inject('/catalog/cold')
    t.equal(reloaded.statusCode, 200, 'working again after resume')
  }
)

t.test(
  'Redis stopped: loader answers, invalidate/refresh say the change stayed local; restart brings L2 back',
  async (t) => {
    const server = await startRedis(t)
    const a = await instance(t, server)
    const b = await instance(t, server)
    await server.stop()
    const cold = await a.app.inject('/catalog/cold')
    t.equal(cold.statusCode, 200)
    t.equal(cold.headers['cache-status'], 'moolah-catalog; fwd=miss; stored')
    const local = {
      code: 'DEPENDENCY_UNAVAILABLE',
      statusCode: 503,
      retryAfter: 1,
      message: /^Catalog cache store is unavailable; the change was applied to this instance only$/
    }
    await t.rejects(
      a.app.catalogCache.invalidate('cold'),
      {
        ...local,
        cause: { message: /^@moolah\/fastify-catalog-cache: store invalidate failed$/, cause: Error }
      },
      'the connection error is only the cause'
    )
    a.loader.version = 2
    await t.rejects(a.app.catalogCache.refresh('cold'), local)
    t.equal(
      (await a.app.catalogCache.get('cold')).value &&
        (await a.app.catalogCache.get<{ version: number }>('cold')).value.version,
      2,
      'refresh applied locally'
    )

    await server.restart()
    await waitUntil(() => a.redis.status === 'ready' && b.redis.status === 'ready', 'clients to reconnect')
    await a.app.catalogCache.refresh('cold')
    const fromL2 = await b.app.catalogCache.get('cold')
    t.equal(fromL2.tier, 'l2', 'another instance reads what this one stored after the restart')
  }
)

t.test('the subscriber reconnecting flushes L1, since invalidations may have been missed', async (t) => {
  const server = await startRedis(t)
  const { app, events, redis } = await instance(t, server)
  await app.catalogCache.get('cold')
  t.equal((await app.catalogCache.get('cold')).tier, 'l1')
  await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  await waitUntil(
    () => events.some((event) => event.type === 'invalidation' && event.origin === 'resync'),
    'the resync after reconnect'
  )
  t.equal((await app.catalogCache.get('cold')).tier, 'l2', 'L1 was flushed; the copy came from Redis')
})

t.test('a lock held past its lease by a dead instance does not block loads forever', async (t) => {
  const server = await startRedis(t)
  const { app, loader, redis } = await instance(t, server, { leaseMs: 300, loadTimeoutMs: 100 })
  await redis.set('faults:{cold}:lock', 'someone-dead', 'PX', 60_000)
  const started = Date.now()
  const result = await app.catalogCache.get('cold')
  t.match(result, { state: 'miss', tier: 'loader' }, 'then loaded itself')
  t.ok(Date.now() - started >= 300, 'waited for the lease')
  t.equal(loader.calls, 1)
})

t.test('an unreadable stored entry is treated like Redis being down', async (t) => {
  const server = await startRedis(t)
  const { app, loader, redis, events } = await instance(t, server)
  await redis.set('faults:{cold}:entry', 'garbage without a metadata line')
  t.equal((await app.catalogCache.get('cold')).tier, 'loader')
  t.equal(loader.calls, 1)
  t.ok(
    events.some((event) => event.type === 'store-error' && event.operation === 'read'),
    'reported'
  )

  // The same while waiting for another instance's load
  await app.catalogCache.invalidate('cold')
  await redis.set('faults:{cold}:lock', 'another-instance', 'PX', 60_000)
  const waiting = app.catalogCache.get('cold')
  await sleep(30)
  await redis.set('faults:{cold}:entry', 'garbage again')
  t.match(await waiting, { state: 'miss', tier: 'loader' })
  t.equal(loader.calls, 2)
})

t.test(
  'Redis hanging mid-way: during a lock wait the waiter loads itself; after a load the value still reaches L1',
  async (t) => {
    const server = await startRedis(t)
    t.teardown(() => {
      try {
        server.resume()
      } catch {
        /* already stopped by its own teardown */
      }
    })
    const { app, loader, redis } = await instance(t, server)
    await redis.set('faults:{cold}:lock', 'another-instance', 'PX', 60_000)
    const waiting = app.catalogCache.get('cold')
    await sleep(50)
    server.pause()
    t.match(await waiting, { state: 'miss', tier: 'loader' }, 'stopped waiting when Redis stopped answering')
    server.resume()

    await redis.del('faults:{cold}:lock')
    await app.catalogCache.invalidate('cold')
    loader.delayMs = 300
    const loading = app.catalogCache.get('cold')
    await sleep(100)
    server.pause()
    t.match(await loading, { state: 'miss', tier: 'loader' })
    t.equal(app.catalogCache.peek('cold')?.tier, 'l1', 'kept in L1 although the store write timed out')
    server.resume()
  }
)

t.test('defaults to fastify.redis (from @fastify/redis) and the catalog: prefix', async (t) => {
  const server = await startRedis(t)
  const { default: fastifyRedis } = await import('@fastify/redis')
  const Fastify = (await import('fastify')).default
  const { catalogCache } = await import('../src/index.js')
  const app = Fastify()
  await app.register(fastifyRedis, { url: server.url })
  await app.register(catalogCache)
  t.teardown(() => app.close())
  app.catalogCache.define('flash', { load: () => ({ ok: true }) })
  await app.catalogCache.get('flash')
  t.ok(await app.redis.exists('catalog:{flash}:entry'))
})
