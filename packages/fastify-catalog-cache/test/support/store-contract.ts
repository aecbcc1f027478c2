import type { FastifyInstance } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { CatalogCacheEvent, CatalogCacheOptions } from '../src/index.js'
import { CountingLoader, createApp, sampleCatalog, waitFor, type StoreFactory } from './helpers.js'

interface Cluster3 {
  apps: [FastifyInstance, FastifyInstance, FastifyInstance]
  loader: CountingLoader
  events: CatalogCacheEvent[][]
}

/** Three instances sharing one store, each defining `flash` with the same counting loader. */
async function threeInstances(t: Test, options: () => CatalogCacheOptions, definition: { ttl?: number, staleWhileRevalidate?: number, staleIfError?: number } = {}): Promise<Cluster3> {
  const loader = new CountingLoader()
  const events: CatalogCacheEvent[][] = []
  const apps: FastifyInstance[] = []
  for (let i = 0; i < 3; i++) {
    const log: CatalogCacheEvent[] = []
    // 1 s store timeout: 1,000 in-process requests on a busy 2-core box can stall the event loop
    // past 200 ms, and a timed-out store call rightly falls back to a local load
    const app = await createApp(t, { timeoutMs: 1000, ...options(), events: log, retryBackoffMs: 1000, retryBackoffMaxMs: 1000 })
    app.catalogCache.define('flash', { load: loader.load, ttl: 60, staleWhileRevalidate: 30, staleIfError: 120, tags: ['providers'], ...definition })
    app.catalogCache.define('easypay', { load: () => ({ provider: 'easypay', products: [] }), ttl: 60, tags: ['providers'] })
    apps.push(app)
    events.push(log)
  }
  return { apps: apps as Cluster3['apps'], loader, events }
}

const get = (app: FastifyInstance, url = '/catalog/flash', headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers })

export function behaviourSuite(t: Test, factory: StoreFactory): void {
  t.test('1,000 concurrent cold requests across 3 instances run the loader exactly once', async (t) => {
    const { apps, loader, events } = await threeInstances(t, await factory(t))
    loader.delayMs = 100
    const responses = await Promise.all(Array.from({ length: 1000 }, (_, i) => get(apps[i % 3] ?? apps[0])))
    t.same(events.flat().filter((event) => event.type === 'store-error'), [], 'the store answered every call')
    t.equal(loader.calls, 1, 'one load for the whole stampede')
    t.ok(responses.every((response) => response.statusCode === 200), 'every request answered 200')
    t.equal(new Set(responses.map((response) => response.headers.etag)).size, 1, 'one ETag everywhere')
    t.same(JSON.parse(responses[0]?.body ?? ''), sampleCatalog(1))
  })

  t.test('HTTP: ETag, 304, HEAD, Cache-Control and Cache-Status on miss and hit, identical ETag across instances', async (t) => {
    const { apps: [a, b] } = await threeInstances(t, await factory(t))
    const miss = await get(a)
    t.equal(miss.statusCode, 200)
    t.equal(miss.headers['content-type'], 'application/json; charset=utf-8')
    t.match(miss.headers.etag, /^"[\w-]{43}"$/, 'strong ETag, a sha256 of the body')
    t.equal(miss.headers['cache-status'], 'moolah-catalog; fwd=miss; stored')
    t.match(miss.headers['cache-control'], /^public, max-age=(59|60), stale-while-revalidate=30, stale-if-error=120$/)

    const hit = await get(a)
    t.match(hit.headers['cache-status'], /^moolah-catalog; hit; ttl=(59|60)$/)
    t.equal(hit.body, miss.body)
    t.equal(hit.headers.etag, miss.headers.etag)

    const elsewhere = await get(b)
    t.equal(elsewhere.headers.etag, miss.headers.etag, 'the same version has the same ETag on another instance')
    t.match(elsewhere.headers['cache-status'], /^moolah-catalog; hit; ttl=(5\d|60)$/, 'an L2 hit refilled L1 of the other instance')

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

    t.equal((await get(a, '/catalog/unknown')).statusCode, 404, 'the route handler answers names the cache does not know')
  })

  t.test('stale-while-revalidate: stale answers at once and exactly one background load across instances', async (t) => {
    const { apps, loader } = await threeInstances(t, await factory(t), { ttl: 0.3, staleWhileRevalidate: 30 })
    const first = await get(apps[0])
    await Promise.all(apps.slice(1).map((app) => get(app)))
    t.equal(loader.calls, 1)
    await sleep(350)
    loader.version = 2
    loader.delayMs = 600
    const started = Date.now()
    const stale = await Promise.all(Array.from({ length: 60 }, (_, i) => get(apps[i % 3] ?? apps[0])))
    t.ok(Date.now() - started < 500, 'stale copies were served without waiting for the load')
    t.ok(stale.every((response) => response.headers.etag === first.headers.etag), 'all stale answers carry the old version')
    t.match(stale[0]?.headers['cache-status'], /^moolah-catalog; fwd=stale; ttl=-\d+; detail=stale-while-revalidate$/)
    t.equal(stale[0]?.headers['cache-control'], 'public, max-age=0, stale-while-revalidate=30, stale-if-error=120')
    await waitFor(async () => {
      const responses = await Promise.all(apps.map((app) => get(app)))
      return responses.every((response) => response.headers.etag !== first.headers.etag)
    }, 'every instance to serve the new version')
    t.equal(loader.calls, 2, 'exactly one background load')
  })

  t.test('stale-if-error: the last good copy is served, marked stale, until the grace ends; then a clear 503', async (t) => {
    const { apps: [a], loader, events } = await threeInstances(t, await factory(t), { ttl: 0.2, staleWhileRevalidate: 0, staleIfError: 1 })
    const good = await get(a)
    await sleep(250)
    loader.failure = new Error('provider feed unreadable')
    const stale = await get(a)
    t.equal(stale.statusCode, 200)
    t.equal(stale.headers.etag, good.headers.etag)
    t.match(stale.headers['cache-status'], /fwd=stale; ttl=-\d+; detail=stale-if-error$/)
    const callsAfterFailure = loader.calls
    const during = await Promise.all(Array.from({ length: 20 }, () => get(a)))
    t.ok(during.every((response) => response.statusCode === 200 && response.headers.etag === good.headers.etag))
    t.equal(loader.calls, callsAfterFailure, 'no retry while backing off')
    t.ok(events[0]?.some((event) => event.type === 'load-error'), 'the failure was reported')
    await waitFor(async () => (await get(a)).statusCode === 503, 'the grace window to end', 3000)
    const failed = await get(a)
    t.equal(failed.statusCode, 503)
    t.equal(JSON.parse(failed.body).code, 'DEPENDENCY_UNAVAILABLE')
    t.equal(JSON.parse(failed.body).message, "Catalog 'flash' is temporarily unavailable; retry shortly")
    t.notOk(failed.body.includes('provider feed unreadable'), "the loader's error stays out of the response")
    t.match(failed.headers['retry-after'], /^\d+$/)
    t.notOk(failed.headers.etag, 'no cache headers on an error')
    loader.failure = undefined
    await waitFor(async () => (await get(a)).statusCode === 200, 'recovery once the loader works again')
  })

  t.test('invalidation on one instance is seen by the others within 1 s', async (t) => {
    const { apps: [a, b, c], loader, events } = await threeInstances(t, await factory(t))
    const before = await get(a)
    await get(b)
    await get(c)
    loader.version = 2
    t.same(await a.catalogCache.invalidate('flash'), ['flash'])
    const elapsed = await waitFor(async () => (await get(b)).headers.etag !== before.headers.etag, 'instance B to serve the new version', 1000)
    t.ok(elapsed < 1000)
    t.equal((await get(c)).headers.etag, (await get(b)).headers.etag, 'C serves the same new version')
    t.ok(events[1]?.some((event) => event.type === 'invalidation' && event.origin === 'remote'))
    t.ok(events[0]?.some((event) => event.type === 'invalidation' && event.origin === 'local'))

    t.same((await a.catalogCache.invalidate({ tag: 'providers' })).sort(), ['easypay', 'flash'])
    t.same(await a.catalogCache.invalidate({ tag: 'none' }), [])
  })

  t.test('refresh reloads once, keeps serving the old copy meanwhile, and switches every instance', async (t) => {
    const { apps: [a, b], loader } = await threeInstances(t, await factory(t))
    const before = await get(a)
    await get(b)
    loader.version = 2
    loader.delayMs = 100
    const refreshing = a.catalogCache.refresh('flash')
    t.equal((await get(b)).headers.etag, before.headers.etag, 'old copy served while the refresh loads')
    const refreshed = await refreshing
    t.equal(refreshed.state, 'miss')
    t.equal(refreshed.tier, 'loader')
    await waitFor(async () => (await get(b)).headers.etag === refreshed.etag, 'B to switch to the refreshed version', 1000)
    t.equal((await get(a)).headers.etag, refreshed.etag)
    const calls = loader.calls

    loader.failure = new Error('feed unreadable')
    await t.rejects(a.catalogCache.refresh('flash'), { code: 'DEPENDENCY_UNAVAILABLE', statusCode: 503 })
    t.equal((await get(a)).headers.etag, refreshed.etag, 'the old catalog keeps being served')
    t.equal((await get(b)).headers.etag, refreshed.etag)
    t.equal(loader.calls, calls + 1)
  })

  t.test('loader errors: timeouts and values JSON cannot hold are load errors', async (t) => {
    const app = await createApp(t, { ...(await factory(t))(), loadTimeoutMs: 100 })
    app.catalogCache.define('slow', { load: () => sleep(1000).then(() => ({})) })
    app.catalogCache.define('dated', { load: () => ({ updatedAt: new Date(0) }) })
    await t.rejects(app.catalogCache.get('slow'), { code: 'DEPENDENCY_UNAVAILABLE', cause: { code: 'CATALOG_LOAD_TIMEOUT' } })
    await t.rejects(app.catalogCache.get('dated'), { code: 'DEPENDENCY_UNAVAILABLE', cause: { code: 'CATALOG_INVALID_VALUE', message: /\$\.updatedAt is a Date instance/ } })
    await t.rejects(app.catalogCache.get('dated'), { code: 'DEPENDENCY_UNAVAILABLE' }, 'no copy and backing off: fails fast')
  })
}
