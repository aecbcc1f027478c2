import Fastify from 'fastify'
import { Redis } from 'ioredis'
import t from 'tap'
import { catalogCache, MemoryCatalogCacheStore } from '../src/index.js'

t.test('options are validated at registration with clear messages', async (t) => {
  const redis = new Redis({ lazyConnect: true })
  t.teardown(() => redis.disconnect())
  const invalid: Array<[Record<string, unknown>, RegExp]> = [
    [
      { timeoutMs: 0 },
      /^@moolah\/fastify-catalog-cache: options\.timeoutMs must be a positive integer, got 0/
    ],
    [{ l1MaxEntries: 1.5 }, /options\.l1MaxEntries must be a positive integer/],
    [{ leaseMs: 1000, loadTimeoutMs: 1000 }, /loadTimeoutMs \(1000\) must be below leaseMs \(1000\)/],
    [{ leaseMs: 0 }, /options\.leaseMs must be a positive integer, got 0/],
    [{ failMode: 'half' }, /options\.failMode must be 'closed' or 'open', got "half"/],
    [{ jitter: 1 }, /jitter must be a number from 0 up to/],
    [{ jitter: '0.1' }, /jitter must be a number/],
    [{ cacheStatusName: 'has space' }, /cacheStatusName must be a token/],
    [{ ttl: 0 }, /options\.ttl must be a positive number of seconds, got 0/],
    [{ ttl: Infinity }, /options\.ttl must be a positive number/],
    [{ staleWhileRevalidate: -1 }, /options\.staleWhileRevalidate must be a number of seconds ≥ 0/],
    [{ staleIfError: 'x' }, /options\.staleIfError must be a number of seconds/],
    [
      { store: { read() {} } },
      /options\.store must implement CatalogCacheStore; missing lock, unlock, write, invalidate, publish, subscribe/
    ],
    [{ store: null }, /options\.store must implement CatalogCacheStore/],
    [
      { store: new MemoryCatalogCacheStore(), prefix: 'app:' },
      /options\.prefix would be ignored next to options\.store/
    ],
    [
      { store: new MemoryCatalogCacheStore(), redis },
      /options\.redis would be ignored next to options\.store/
    ],
    [{ prefix: 1 }, /options\.prefix must be a string without \{ or \}, got 1/],
    [{ redis: {} }, /redis must be an ioredis Redis or Cluster client/],
    [{ onEvent: 'log' }, /options\.onEvent must be a function, got "log"/],
    [{ isPrivateRoute: true }, /options\.isPrivateRoute must be a function/]
  ]
  for (const [options, message] of invalid) {
    const app = Fastify()
    await t.rejects(
      async () => {
        await app.register(catalogCache, options as never)
      },
      { name: 'TypeError', message },
      String(message)
    )
    await app.close()
  }
})

t.test('definitions are validated', async (t) => {
  const app = Fastify()
  await app.register(catalogCache, { leaseMs: 1000, loadTimeoutMs: 500 })
  t.teardown(() => app.close())
  const define = (name: unknown, definition: unknown) => () =>
    app.catalogCache.define(name as string, definition as never)
  t.throws(define('has {braces}', { load: () => 1 }), /catalog name must be 1-200 characters/)
  t.throws(define(7, { load: () => 1 }), /catalog name must be/)
  t.throws(define('a', {}), /define\('a'\): load must be a function/)
  t.throws(define('a', undefined), /load must be a function/)
  t.throws(define('a', { load: () => 1, tags: 'x' }), /tags must be an array of strings/)
  t.throws(define('a', { load: () => 1, tags: [1] }), /tags must be an array of strings/)
  t.throws(
    define('a', { load: () => 1, loadTimeoutMs: 1000 }),
    /define\('a'\): loadTimeoutMs \(1000\) must be below leaseMs \(1000\)/
  )
  t.throws(define('a', { load: () => 1, ttl: -1 }), /define\('a'\)\.ttl must be a positive number/)
  t.doesNotThrow(
    define('provider:flash.v1_x-y', {
      load: () => 1,
      ttl: 0.5,
      staleWhileRevalidate: 0,
      staleIfError: 0,
      tags: ['t']
    })
  )
})
