import { waitUntil } from '@moolah/test-utils'
import Fastify from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import {
  catalogCache,
  MemoryCatalogCacheStore,
  type CatalogCacheEvent,
  type LoadContext
} from '../src/index.js'
import { etagMatches } from '../src/plugin.js'
import { createApp, seconds } from './support/app.js'

const catalog = { provider: 'flash', products: [{ id: 'a' }] }

t.test('a route naming one catalog, and reply.catalog() in a handler', async (t) => {
  const app = await createApp(t)
  app.catalogCache.define('flash', { load: () => catalog })
  app.get('/flash', { config: { catalogCache: 'flash' } }, async () => ({ never: 'runs' }))
  app.get('/by-handler', async (_request, reply) => reply.catalog('flash'))
  app.post('/by-handler', async (_request, reply) => reply.catalog('flash'))
  app.get('/missing', { config: { catalogCache: 'nope' } }, async () => ({}))
  app.get(
    '/throws',
    {
      config: {
        catalogCache: () => {
          throw new Error('selector broke')
        }
      }
    },
    async () => ({})
  )

  const direct = await app.inject('/flash')
  t.same(direct.json(), catalog)
  const viaHandler = await app.inject('/by-handler')
  t.equal(viaHandler.body, direct.body)
  t.equal(viaHandler.headers.etag, direct.headers.etag)
  t.match(viaHandler.headers['cache-status'], /^moolah-catalog; hit; ttl=\d+$/)
  t.ok(
    seconds(viaHandler.headers['cache-status'], 'ttl') > 0 &&
      seconds(viaHandler.headers['cache-status'], 'ttl') <= 300
  )
  t.equal(
    (await app.inject({ url: '/by-handler', headers: { 'if-none-match': String(direct.headers.etag) } }))
      .statusCode,
    304
  )
  const head = await app.inject({ method: 'HEAD', url: '/flash' })
  t.equal(head.statusCode, 200)
  t.equal(head.headers.etag, direct.headers.etag)

  t.equal(
    (await app.inject({ method: 'POST', url: '/by-handler' })).statusCode,
    500,
    'reply.catalog() refuses other methods'
  )
  const missing = await app.inject('/missing')
  t.equal(missing.statusCode, 500)
  t.equal(missing.json().code, 'CATALOG_NOT_DEFINED')
  t.equal((await app.inject('/throws')).statusCode, 500)
})

t.test('reply.catalog() passes on a 503 with Retry-After', async (t) => {
  const app = await createApp(t)
  app.catalogCache.define('broken', {
    load: () => {
      throw new Error('down')
    }
  })
  app.get('/broken', async (_request, reply) => reply.catalog('broken'))
  const response = await app.inject('/broken')
  t.equal(response.statusCode, 503)
  t.equal(response.headers['retry-after'], '1')
})

t.test('a loader throwing a non-Error still gives a clear 503', async (t) => {
  const app = await createApp(t)
  app.catalogCache.define('odd', {
    load: () => {
      throw 'plain string'
    }
  })
  await t.rejects(app.catalogCache.get('odd'), {
    code: 'DEPENDENCY_UNAVAILABLE',
    message: /^Catalog 'odd' is temporarily unavailable; retry shortly$/,
    cause: /^plain string$/
  })
})

/**
 * How long a copy of `flash` stays fresh in twoInstances: long enough that a busy machine does not
 * let a copy go stale between two steps that expect it fresh (0.1 s did, at load 15).
 */
const FRESH_S = 1

/** Two instances sharing a memory store, with a `flash` catalog fresh for FRESH_S whose value counts the loads. */
async function twoInstances(t: Test) {
  const store = new MemoryCatalogCacheStore()
  const loads = { calls: 0 }
  const load = async () => ({ calls: ++loads.calls })
  const [a, b] = [await createApp(t, { store }), await createApp(t, { store })]
  for (const app of [a, b]) app.catalogCache.define('flash', { load, ttl: FRESH_S, staleWhileRevalidate: 30 })
  return { a, b, loads }
}

t.test('an instance without an L1 copy serves a stale L2 copy at once and revalidates it', async (t) => {
  const { a, b } = await twoInstances(t)
  await a.catalogCache.get('flash')
  await sleep(FRESH_S * 1000 + 50)
  const stale = await b.catalogCache.get<{ calls: number }>('flash')
  t.match(stale, { state: 'stale', tier: 'l2', staleReason: 'revalidating', value: { calls: 1 } })
  await waitUntil(
    () => b.catalogCache.peek<{ calls: number }>('flash')?.value.calls === 2,
    'the background load'
  )
})

t.test('a background revalidation takes the fresh copy another instance stored meanwhile', async (t) => {
  const { a, b, loads } = await twoInstances(t)
  await a.catalogCache.get('flash')
  t.equal((await b.catalogCache.get('flash')).tier, 'l2')
  await sleep(FRESH_S * 1000 + 50)
  t.equal((await a.catalogCache.get('flash')).state, 'stale')
  await waitUntil(() => a.catalogCache.peek('flash')?.state === 'hit', "A's background load")
  t.match(await b.catalogCache.get<{ calls: number }>('flash'), {
    state: 'stale',
    tier: 'l1',
    value: { calls: 1 }
  })
  await waitUntil(() => b.catalogCache.peek('flash')?.state === 'hit', "B's revalidation")
  t.equal(b.catalogCache.peek<{ calls: number }>('flash')?.value.calls, 2, "B took A's copy")
  t.equal(loads.calls, 2, 'without loading again')
})

t.test(
  'stale-if-error covers a loader that hangs: the stale copy comes after loadTimeoutMs, and the loader is aborted',
  async (t) => {
    const app = await createApp(t, { loadTimeoutMs: 100 })
    let hang = false
    let aborted: unknown
    const load = async ({ signal }: LoadContext) => {
      if (!hang) return { ok: true }
      // A loader stuck on I/O: only the abort ends it
      return sleep(600_000, undefined, { signal }).catch(() => {
        aborted = signal.reason
      })
    }
    app.catalogCache.define('flash', { load, ttl: 0.05, staleWhileRevalidate: 0, staleIfError: 30 })
    const good = await app.catalogCache.get('flash')
    await sleep(60)
    hang = true
    const started = Date.now()
    t.match(await app.catalogCache.get('flash'), { state: 'stale', staleReason: 'error', etag: good.etag })
    t.ok(Date.now() - started >= 100)
    t.match(aborted, { code: 'CATALOG_LOAD_TIMEOUT' }, 'the signal carries the timeout')
  }
)

t.test('stale-if-error also uses a copy only L2 still has', async (t) => {
  const store = new MemoryCatalogCacheStore()
  let failing = false
  const load = () => {
    if (failing) throw new Error('provider down')
    return { ok: true }
  }
  const [a, b] = [await createApp(t, { store }), await createApp(t, { store })]
  for (const app of [a, b])
    app.catalogCache.define('flash', { load, ttl: 0.05, staleWhileRevalidate: 0, staleIfError: 30 })
  const good = await a.catalogCache.get('flash')
  await new Promise((resolve) => setTimeout(resolve, 60))
  failing = true
  t.match(await b.catalogCache.get('flash'), {
    state: 'stale',
    tier: 'l2',
    staleReason: 'error',
    etag: good.etag
  })
  t.match(
    b.catalogCache.peek('flash'),
    { state: 'stale', tier: 'l1', staleReason: 'error' },
    'kept in L1 while backing off'
  )
})

t.test('If-None-Match uses the weak comparison', async (t) => {
  t.ok(etagMatches('"a"', '"a"'))
  t.ok(etagMatches('W/"a"', '"a"'))
  t.ok(etagMatches('"b", W/"a"', '"a"'))
  t.ok(etagMatches(' * ', '"a"'))
  t.notOk(etagMatches('"b", "c"', '"a"'))
  t.notOk(etagMatches(undefined, '"a"'))
})

t.test('cache headers are added to 2xx/304 only', async (t) => {
  const app = Fastify()
  // An app-level onSend that runs before the plugin's and turns the answer into an error
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.headers['x-break'] !== undefined) reply.code(500)
    return payload
  })
  await app.register(catalogCache)
  app.catalogCache.define('flash', { load: () => catalog })
  app.get('/flash', { config: { catalogCache: 'flash' } }, async () => ({}))
  t.teardown(() => app.close())
  t.ok((await app.inject('/flash')).headers.etag)
  const broken = await app.inject({ url: '/flash', headers: { 'x-break': '1' } })
  t.equal(broken.statusCode, 500)
  t.notOk(broken.headers.etag)
  t.notOk(broken.headers['cache-control'])
})

t.test('catalog routes are refused unless public GET/HEAD routes with a valid selector', async (t) => {
  const app = Fastify()
  await app.register(catalogCache, {
    isPrivateRoute: (route) => (route.config as { auth?: boolean } | undefined)?.auth === true
  })
  t.teardown(() => app.close())
  t.throws(() => app.post('/x', { config: { catalogCache: 'flash' } }, async () => ({})), /GET and HEAD only/)
  t.throws(
    () => app.get('/y', { config: { catalogCache: 'flash', auth: true } as never }, async () => ({})),
    /needs authentication, but catalog responses are public/
  )
  t.throws(
    () => app.get('/z', { config: { catalogCache: 42 as never } }, async () => ({})),
    /must be a catalog name or a function/
  )
  t.doesNotThrow(() =>
    app.route({
      method: ['GET', 'HEAD'],
      url: '/ok',
      config: { catalogCache: 'flash' },
      handler: async () => ({})
    })
  )
  t.doesNotThrow(() => app.get('/plain', async () => ({})))
})

t.test('an onEvent that throws is logged and does not break the request', async (t) => {
  const logged: unknown[] = []
  const app = Fastify({
    logger: {
      level: 'warn',
      stream: {
        write: (line: string) => {
          logged.push(JSON.parse(line))
        }
      }
    }
  })
  await app.register(catalogCache, {
    onEvent: () => {
      throw new Error('observer broke')
    }
  })
  app.catalogCache.define('flash', { load: () => catalog })
  app.get('/flash', { config: { catalogCache: 'flash' } }, async () => ({}))
  t.teardown(() => app.close())
  t.equal((await app.inject('/flash')).statusCode, 200)
  t.match(logged, [
    {
      level: 50,
      msg: '@moolah/fastify-catalog-cache: onEvent threw',
      err: { message: 'observer broke' },
      event: 'load'
    }
  ])
})

t.test('get() metadata, peek(), events and the bounded L1', async (t) => {
  const events: CatalogCacheEvent[] = []
  const app = await createApp(t, { l1MaxEntries: 2, events })
  for (const name of ['a', 'b', 'c'])
    app.catalogCache.define(name, {
      load: () => ({ name }),
      ttl: 10,
      staleWhileRevalidate: 5,
      staleIfError: 20
    })
  t.equal(app.catalogCache.peek('a'), undefined)
  const first = await app.catalogCache.get<{ name: string }>('a')
  t.match(first, {
    name: 'a',
    value: { name: 'a' },
    state: 'miss',
    tier: 'loader',
    cacheControl: /^public, max-age=\d+, stale-while-revalidate=5, stale-if-error=20$/
  })
  t.ok(first.age >= 0 && first.age <= 1 && first.ttl > 0 && first.ttl <= 10, 'just loaded')
  t.ok(Object.isFrozen(first.value), 'the shared value is frozen')
  t.equal(app.catalogCache.peek('a')?.state, 'hit')
  await app.catalogCache.get('b')
  await app.catalogCache.get('c')
  t.equal(
    (await app.catalogCache.get('a')).tier,
    'l2',
    'evicted from L1 (least recently stored), still in the store'
  )
  t.match(
    events.map((event) => event.type),
    ['load', 'miss', 'hit', 'load', 'miss', 'load', 'miss', 'hit']
  )
  t.ok(app.catalogCache.has('a'))
  t.notOk(app.catalogCache.has('zzz'))
  await t.rejects(app.catalogCache.get('zzz'), { code: 'CATALOG_NOT_DEFINED', statusCode: 500 })
  t.throws(() => app.catalogCache.define('a', { load: () => ({}) }), /already defined/)
})

t.test('TTL jitter spreads the expiry of catalogs loaded together', async (t) => {
  const app = await createApp(t, { jitter: 0.5 })
  const names = Array.from({ length: 20 }, (_, i) => `c${i}`)
  for (const name of names) app.catalogCache.define(name, { load: () => ({}), ttl: 1000 })
  const ttls = new Set(
    (await Promise.all(names.map((name) => app.catalogCache.get(name)))).map((result) => result.ttl)
  )
  t.ok(ttls.size > 5, `${ttls.size} distinct expiry times`)
  t.ok(
    [...ttls].every((ttl) => ttl >= 490 && ttl < 1000),
    'between half and all of the ttl'
  )
})

t.test('a malformed pub/sub message is reported, not thrown', async (t) => {
  const events: CatalogCacheEvent[] = []
  const store = new MemoryCatalogCacheStore()
  await createApp(t, { store, events })
  for (const raw of [
    'not json',
    'null',
    '{"o":"x","t":"invalidate"}',
    '{"o":"x","t":"drop","n":[]}',
    '{"o":"x","t":"loaded","n":[1]}',
    '{"t":"loaded","n":[]}'
  ]) {
    await store.publish(raw)
  }
  t.equal(events.length, 6)
  t.ok(events.every((event) => event.type === 'store-error' && event.operation === 'subscribe'))
})
