import { waitUntil } from '@moolah/test-utils'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { MemoryCatalogCacheStore, type CatalogCacheEvent, type FailMode } from '../src/index.js'
import { CountingLoader, createApp } from './support/app.js'

type FailingMethod = 'read' | 'lock' | 'unlock' | 'invalidate' | 'publish'

/** A memory store whose listed methods fail, as a Redis that refuses connections would. */
class FailingStore extends MemoryCatalogCacheStore {
  readonly failing = new Set<FailingMethod>()

  override async read(name: string): Promise<string | undefined> {
    this.#refuse('read')
    return super.read(name)
  }

  override async lock(name: string, token: string, leaseMs: number): Promise<number | undefined> {
    this.#refuse('lock')
    return super.lock(name, token, leaseMs)
  }

  override async unlock(name: string, token: string): Promise<void> {
    this.#refuse('unlock')
    return super.unlock(name, token)
  }

  override async invalidate(name: string, keepEntry: boolean): Promise<number> {
    this.#refuse('invalidate')
    return super.invalidate(name, keepEntry)
  }

  override async publish(message: string): Promise<void> {
    this.#refuse('publish')
    return super.publish(message)
  }

  #refuse(method: FailingMethod): void {
    if (this.failing.has(method)) throw new Error(`${method}: connect ECONNREFUSED 127.0.0.1:6379`)
  }
}

async function instance(t: Test, failMode?: FailMode) {
  const store = new FailingStore()
  const loader = new CountingLoader()
  const events: CatalogCacheEvent[] = []
  // A backoff longer than any test: a failure is not retried behind the test's back
  const app = await createApp(t, {
    store,
    events,
    retryBackoffMs: 60_000,
    retryBackoffMaxMs: 60_000,
    ...(failMode === undefined ? {} : { failMode })
  })
  app.catalogCache.define('expiring', {
    load: loader.load,
    ttl: 0.05,
    staleWhileRevalidate: 0,
    staleIfError: 60
  })
  app.catalogCache.define('revalidating', { load: loader.load, ttl: 0.05, staleWhileRevalidate: 60 })
  app.catalogCache.define('cold', { load: loader.load })
  return { app, store, loader, events }
}

t.test(
  "failMode 'closed': no load without the store; a copy inside stale-if-error is served, else 503",
  async (t) => {
    const { app, store, loader } = await instance(t, 'closed')
    t.equal((await app.inject('/catalog/expiring')).statusCode, 200)
    await sleep(60) // past freshness, inside stale-if-error
    store.failing.add('read')
    const stale = await app.inject('/catalog/expiring')
    t.equal(stale.statusCode, 200)
    t.match(stale.headers['cache-status'], /fwd=stale; ttl=-\d+; detail=stale-if-error$/)
    const cold = await app.inject('/catalog/cold')
    t.equal(cold.statusCode, 503)
    t.equal(cold.headers['retry-after'], '60', 'the backoff, as for a failed load')
    t.equal(cold.json().message, "Catalog 'cold' is temporarily unavailable; retry shortly")
    t.notOk(cold.body.includes('ECONNREFUSED'))
    await t.rejects(
      app.catalogCache.get('cold'),
      {
        code: 'DEPENDENCY_UNAVAILABLE',
        cause: { message: '@moolah/fastify-catalog-cache: store read failed' }
      },
      'fails fast while backing off'
    )
    t.equal(loader.calls, 1, 'the loader ran only for the first copy')
  }
)

t.test("failMode 'closed': the store failing during the shared load (the lock) refuses too", async (t) => {
  const { app, store, loader } = await instance(t, 'closed')
  store.failing.add('lock')
  await t.rejects(app.catalogCache.get('cold'), {
    code: 'DEPENDENCY_UNAVAILABLE',
    cause: { message: '@moolah/fastify-catalog-cache: store lock failed' }
  })
  t.equal(loader.calls, 0)
})

t.test(
  "failMode 'closed': no background load without the store; the stale copy is served meanwhile",
  async (t) => {
    const { app, store, loader, events } = await instance(t, 'closed')
    await app.catalogCache.get('revalidating')
    await sleep(60) // past freshness, inside stale-while-revalidate
    store.failing.add('read')
    t.match(await app.catalogCache.get('revalidating'), { state: 'stale', staleReason: 'revalidating' })
    await waitUntil(
      () => events.some((event) => event.type === 'store-error' && event.operation === 'read'),
      'the background read to fail'
    )
    t.match(await app.catalogCache.get('revalidating'), { state: 'stale', tier: 'l1' }, 'still served')
    t.equal(loader.calls, 1)
  }
)

t.test("failMode 'closed': refresh() rejects without loading, and the old copies stay", async (t) => {
  const { app, store, loader } = await instance(t, 'closed')
  const before = await app.catalogCache.get('cold')
  store.failing.add('invalidate')
  await t.rejects(app.catalogCache.refresh('cold'), {
    code: 'DEPENDENCY_UNAVAILABLE',
    statusCode: 503,
    retryAfter: 1,
    message: 'Catalog cache store is unavailable; nothing was changed'
  })
  t.equal(loader.calls, 1)
  t.equal(app.catalogCache.peek('cold')?.etag, before.etag)
})

t.test("failMode 'open' (the default): without the store this instance loads on its own", async (t) => {
  const { app, store, loader, events } = await instance(t)
  store.failing.add('read')
  t.match(await app.catalogCache.get('cold'), { state: 'miss', tier: 'loader' })
  t.equal(loader.calls, 1)
  t.ok(events.some((event) => event.type === 'store-error' && event.operation === 'read'))
})

t.test('a failed unlock or "loaded" broadcast after a load is reported, and the load stands', async (t) => {
  const { app, store, loader, events } = await instance(t)
  store.failing.add('unlock').add('publish')
  t.match(await app.catalogCache.get('cold'), { state: 'miss', tier: 'loader' })
  const failed = (operation: string) =>
    events.some((event) => event.type === 'store-error' && event.operation === operation)
  await waitUntil(() => failed('unlock') && failed('publish'), 'both failures to be reported')
  t.match(await app.catalogCache.get('cold'), { state: 'hit', tier: 'l1' }, 'the copy is kept')
  t.equal(loader.calls, 1)
})
