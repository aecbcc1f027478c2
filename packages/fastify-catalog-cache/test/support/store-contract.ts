import { waitUntil } from '@moolah/test-utils'
import type { FastifyInstance } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import {
  RedisCatalogCacheStore,
  type CatalogCacheEvent,
  type CatalogCacheOptions,
  type CatalogCacheStore
} from '../../src/index.js'
import { CountingLoader, createApp, sampleCatalog, seconds, type StoreFactory } from './app.js'

interface Cluster3 {
  apps: [FastifyInstance, FastifyInstance, FastifyInstance]
  loader: CountingLoader
  events: CatalogCacheEvent[][]
}

/** Three instances sharing one store, each defining `flash` with the same counting loader. */
async function threeInstances(
  t: Test,
  options: () => CatalogCacheOptions,
  definition: { ttl?: number; staleWhileRevalidate?: number; staleIfError?: number } = {},
  plugin: CatalogCacheOptions = {}
): Promise<Cluster3> {
  const loader = new CountingLoader()
  const events: CatalogCacheEvent[][] = []
  const apps: FastifyInstance[] = []
  for (let i = 0; i < 3; i++) {
    const log: CatalogCacheEvent[] = []
    // 5 s store timeout: 1,000 in-process requests on a busy 2-core box can stall the event loop
    // for a second or more, and a timed-out store call rightly falls back to a local load (an
    // extra load: faults.test.ts covers that), which is not what these tests count
    const app = await createApp(t, {
      timeoutMs: 5000,
      ...options(),
      events: log,
      retryBackoffMs: 1000,
      retryBackoffMaxMs: 1000,
      ...plugin
    })
    app.catalogCache.define('flash', {
      load: loader.load,
      ttl: 60,
      staleWhileRevalidate: 30,
      staleIfError: 120,
      tags: ['providers'],
      ...definition
    })
    app.catalogCache.define('easypay', {
      load: () => ({ provider: 'easypay', products: [] }),
      ttl: 60,
      tags: ['providers']
    })
    apps.push(app)
    events.push(log)
  }
  return { apps: apps as Cluster3['apps'], loader, events }
}

const get = (app: FastifyInstance, url = '/catalog/flash', headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers })

/** The store the plugin would make of these options. */
function storeOf(options: CatalogCacheOptions): CatalogCacheStore {
  return (
    options.store ??
    new RedisCatalogCacheStore({
      redis: options.redis as NonNullable<CatalogCacheOptions['redis']>,
      prefix: options.prefix
    })
  )
}

/**
 * What every CatalogCacheStore must do, and what the plugin does on top of it with several
 * instances sharing the store. Each store-*.test.ts runs it against one kind of store.
 */
export function storeContract(t: Test, factory: StoreFactory): void {
  t.test(
    'the store: an owned lock with a lease, generations that refuse old writes, expiry, pub/sub',
    async (t) => {
      const store = storeOf((await factory(t))())
      t.equal(await store.lock('a', 'one', 300), 0, 'taken: the generation so far')
      t.equal(await store.lock('a', 'two', 300), undefined, 'held')
      await store.unlock('a', 'two')
      t.equal(await store.lock('a', 'three', 300), undefined, 'only the holder releases')
      await sleep(350)
      t.equal(await store.lock('a', 'four', 300), 0, 'an expired lease is free')
      t.equal(await store.write('a', 0, 'payload', 60_000), true)
      t.equal(await store.read('a'), 'payload')
      t.equal(await store.invalidate('a', true), 1)
      t.equal(await store.read('a'), 'payload', 'keepEntry')
      t.equal(await store.lock('a', 'five', 300), 1, 'invalidate freed the lock and bumped the generation')
      t.equal(
        await store.write('a', 0, 'old', 60_000),
        false,
        'a write from before the invalidation is refused'
      )
      t.equal(await store.invalidate('a', false), 2)
      t.equal(await store.read('a'), undefined)
      t.equal(await store.write('b', 0, 'short-lived', 50), true)
      await sleep(100)
      t.equal(await store.read('b'), undefined, 'gone after its ttl')

      const received: string[] = []
      const subscription = store.subscribe({
        onMessage: (message) => {
          received.push(message)
        },
        onSubscribed: () => {},
        onError: () => {}
      })
      t.teardown(() => subscription.close())
      t.equal(await subscription.subscribed(5000), true)
      await store.publish('hello')
      await waitUntil(() => received.includes('hello'), 'the message')
    }
  )

  t.test('1,000 concurrent cold requests across 3 instances run the loader exactly once', async (t) => {
    const { apps, loader, events } = await threeInstances(t, await factory(t))
    loader.delayMs = 100
    const responses = await Promise.all(Array.from({ length: 1000 }, (_, i) => get(apps[i % 3] ?? apps[0])))
    t.same(
      events.flat().filter((event) => event.type === 'store-error'),
      [],
      'the store answered every call'
    )
    t.equal(loader.calls, 1, 'one load for the whole stampede')
    t.ok(
      responses.every((response) => response.statusCode === 200),
      'every request answered 200'
    )
    t.equal(new Set(responses.map((response) => response.headers.etag)).size, 1, 'one ETag everywhere')
    t.same(JSON.parse(responses[0]?.body ?? ''), sampleCatalog(1))
  })

  t.test(
    'HTTP: ETag, 304, HEAD, Cache-Control and Cache-Status on miss and hit, identical ETag across instances',
    async (t) => {
      const {
        apps: [a, b]
      } = await threeInstances(t, await factory(t))
      const miss = await get(a)
      t.equal(miss.statusCode, 200)
      t.equal(miss.headers['content-type'], 'application/json; charset=utf-8')
      t.match(miss.headers.etag, /^"[\w-]{43}"$/, 'strong ETag, a sha256 of the body')
      t.equal(miss.headers['cache-status'], 'moolah-catalog; fwd=miss; stored')
      t.match(
        miss.headers['cache-control'],
        /^public, max-age=\d+, stale-while-revalidate=30, stale-if-error=120$/
      )
      t.ok(
        seconds(miss.headers['cache-control'], 'max-age') > 0 &&
          seconds(miss.headers['cache-control'], 'max-age') <= 60,
        'max-age: the freshness left'
      )

      const hit = await get(a)
      t.match(hit.headers['cache-status'], /^moolah-catalog; hit; ttl=\d+$/)
      t.ok(
        seconds(hit.headers['cache-status'], 'ttl') > 0 && seconds(hit.headers['cache-status'], 'ttl') <= 60
      )
      t.equal(hit.body, miss.body)
      t.equal(hit.headers.etag, miss.headers.etag)

      const elsewhere = await get(b)
      t.equal(
        elsewhere.headers.etag,
        miss.headers.etag,
        'the same version has the same ETag on another instance'
      )
      t.match(
        elsewhere.headers['cache-status'],
        /^moolah-catalog; hit; ttl=\d+$/,
        'an L2 hit refilled L1 of the other instance'
      )

      const notModified = await get(b, '/catalog/flash', { 'if-none-match': String(miss.headers.etag) })
      t.equal(notModified.statusCode, 304)
      t.equal(notModified.body, '')
      t.equal(notModified.headers.etag, miss.headers.etag)
      t.ok(notModified.headers['cache-control'])
      t.ok(notModified.headers['cache-status'])

      const changed = await get(b, '/catalog/flash', { 'if-none-match': '"something-else"' })
      t.equal(changed.statusCode, 200)

      const head = await b.inject({ method: 'HEAD', url: '/catalog/flash' })
      t.equal(head.statusCode, 200)
      t.equal(head.body, '')
      t.equal(head.headers.etag, miss.headers.etag)
      t.equal(head.headers['content-length'], String(Buffer.byteLength(miss.body)))

      t.equal(
        (await get(a, '/catalog/unknown')).statusCode,
        404,
        'the route handler answers names the cache does not know'
      )
    }
  )

  t.test(
    'stale-while-revalidate: stale answers at once and exactly one background load across instances',
    async (t) => {
      const { apps, loader, events } = await threeInstances(t, await factory(t), {
        ttl: 0.3,
        staleWhileRevalidate: 30
      })
      const first = await get(apps[0])
      await Promise.all(apps.slice(1).map((app) => get(app)))
      t.equal(loader.calls, 1)
      await sleep(350)
      loader.version = 2
      const release = loader.hold()
      // Every answer below arrives while the background load is held: none waited for it
      const stale = await Promise.all(Array.from({ length: 60 }, (_, i) => get(apps[i % 3] ?? apps[0])))
      release()
      t.ok(
        stale.every((response) => response.headers.etag === first.headers.etag),
        'all stale answers carry the old version'
      )
      t.match(
        stale[0]?.headers['cache-status'],
        /^moolah-catalog; fwd=stale; ttl=-\d+; detail=stale-while-revalidate$/
      )
      t.equal(
        stale[0]?.headers['cache-control'],
        'public, max-age=0, stale-while-revalidate=30, stale-if-error=120'
      )
      await waitUntil(async () => {
        const responses = await Promise.all(apps.map((app) => get(app)))
        return responses.every((response) => response.headers.etag !== first.headers.etag)
      }, 'every instance to serve the new version')
      t.same(
        events.flat().filter((event) => event.type === 'store-error'),
        [],
        'the store answered every call'
      )
      t.equal(loader.calls, 2, 'exactly one background load')
    }
  )

  t.test(
    'stale-if-error: the last good copy is served, marked stale, until the grace ends; then a clear 503',
    async (t) => {
      // A backoff far longer than the 20 reads below take, even on a stalled machine
      const {
        apps: [a],
        loader,
        events
      } = await threeInstances(
        t,
        await factory(t),
        { ttl: 0.2, staleWhileRevalidate: 0, staleIfError: 1 },
        { retryBackoffMs: 3000, retryBackoffMaxMs: 3000 }
      )
      const good = await get(a)
      await sleep(250)
      loader.failure = new Error('provider feed unreadable')
      const stale = await get(a)
      t.equal(stale.statusCode, 200)
      t.equal(stale.headers.etag, good.headers.etag)
      t.match(stale.headers['cache-status'], /fwd=stale; ttl=-\d+; detail=stale-if-error$/)
      const callsAfterFailure = loader.calls
      const during = await Promise.all(Array.from({ length: 20 }, () => get(a)))
      t.ok(
        during.every((response) => response.statusCode === 200 && response.headers.etag === good.headers.etag)
      )
      t.equal(loader.calls, callsAfterFailure, 'no retry while backing off')
      t.ok(
        events[0]?.some((event) => event.type === 'load-error'),
        'the failure was reported'
      )
      await waitUntil(async () => (await get(a)).statusCode === 503, 'the grace window to end')
      const failed = await get(a)
      t.equal(failed.statusCode, 503)
      t.equal(JSON.parse(failed.body).code, 'DEPENDENCY_UNAVAILABLE')
      t.equal(JSON.parse(failed.body).message, "Catalog 'flash' is temporarily unavailable; retry shortly")
      t.notOk(
        failed.body.includes('provider feed unreadable'),
        "the loader's error stays out of the response"
      )
      t.match(failed.headers['retry-after'], /^\d+$/)
      t.notOk(failed.headers.etag, 'no cache headers on an error')
      loader.failure = undefined
      await waitUntil(async () => (await get(a)).statusCode === 200, 'recovery once the loader works again')
    }
  )

  t.test('invalidation on one instance is seen by the others', async (t) => {
    const {
      apps: [a, b, c],
      loader,
      events
    } = await threeInstances(t, await factory(t))
    const before = await get(a)
    await get(b)
    await get(c)
    loader.version = 2
    t.same(await a.catalogCache.invalidate('flash'), ['flash'])
    await waitUntil(
      async () => (await get(b)).headers.etag !== before.headers.etag,
      'instance B to serve the new version'
    )
    t.equal((await get(c)).headers.etag, (await get(b)).headers.etag, 'C serves the same new version')
    t.ok(events[1]?.some((event) => event.type === 'invalidation' && event.origin === 'remote'))
    t.ok(events[0]?.some((event) => event.type === 'invalidation' && event.origin === 'local'))

    t.same((await a.catalogCache.invalidate({ tag: 'providers' })).sort(), ['easypay', 'flash'])
    t.same(await a.catalogCache.invalidate({ tag: 'none' }), [])
  })

  t.test(
    'refresh reloads once, keeps serving the old copy meanwhile, and switches every instance',
    async (t) => {
      const {
        apps: [a, b],
        loader
      } = await threeInstances(t, await factory(t))
      const before = await get(a)
      await get(b)
      loader.version = 2
      loader.delayMs = 100
      const refreshing = a.catalogCache.refresh('flash')
      t.equal((await get(b)).headers.etag, before.headers.etag, 'old copy served while the refresh loads')
      const refreshed = await refreshing
      t.equal(refreshed.state, 'miss')
      t.equal(refreshed.tier, 'loader')
      await waitUntil(
        async () => (await get(b)).headers.etag === refreshed.etag,
        'B to switch to the refreshed version'
      )
      t.equal((await get(a)).headers.etag, refreshed.etag)
      const calls = loader.calls

      loader.failure = new Error('feed unreadable')
      await t.rejects(a.catalogCache.refresh('flash'), { code: 'DEPENDENCY_UNAVAILABLE', statusCode: 503 })
      t.equal((await get(a)).headers.etag, refreshed.etag, 'the old catalog keeps being served')
      t.equal((await get(b)).headers.etag, refreshed.etag)
      t.equal(loader.calls, calls + 1)
    }
  )

  t.test('loader errors: timeouts and values JSON cannot hold are load errors', async (t) => {
    const app = await createApp(t, { ...(await factory(t))(), loadTimeoutMs: 100 })
    app.catalogCache.define('slow', { load: () => sleep(1000).then(() => ({})) })
    app.catalogCache.define('dated', { load: () => ({ updatedAt: new Date(0) }) })
    await t.rejects(app.catalogCache.get('slow'), {
      code: 'DEPENDENCY_UNAVAILABLE',
      cause: { code: 'CATALOG_LOAD_TIMEOUT' }
    })
    await t.rejects(app.catalogCache.get('dated'), {
      code: 'DEPENDENCY_UNAVAILABLE',
      cause: { code: 'CATALOG_INVALID_VALUE', message: /\$\.updatedAt is a Date instance/ }
    })
    await t.rejects(
      app.catalogCache.get('dated'),
      { code: 'DEPENDENCY_UNAVAILABLE' },
      'no copy and backing off: fails fast'
    )
  })
}
