import Fastify from 'fastify'
import t from 'tap'
import { catalogCache, MemoryCatalogStore } from '../src/index.js'
import { decodeEntry } from '../src/entry.js'
import { deepFreeze, findNonJson } from '../src/plain-json.js'
import { withTimeout } from '../src/with-timeout.js'

t.test('findNonJson accepts plain JSON and names the first thing JSON cannot hold', async (t) => {
  t.equal(findNonJson({ a: [1, 'x', true, null, { b: -0.5 }], c: Object.create(null) }), undefined)
  class Product {}
  const circular: Record<string, unknown> = {}
  circular.self = circular
  const shared = { id: 1 }
  t.equal(findNonJson({ a: shared, b: shared }), undefined, 'a repeated (non-circular) object is fine')
  const cases: Array<[unknown, RegExp]> = [
    [{ at: new Date(0) }, /\$\.at is a Date instance/],
    [{ n: 10n }, /\$\.n is a bigint/],
    [{ m: new Map() }, /\$\.m is a Map instance/],
    [{ s: new Set() }, /\$\.s is a Set instance/],
    [{ u: undefined }, /\$\.u is a undefined/],
    [[1, undefined], /\$\[1\] is a undefined/],
    // eslint-disable-next-line no-sparse-arrays
    [[1, , 3], /\$\[1\] is a hole/],
    [{ x: NaN }, /\$\.x is NaN/],
    [{ x: Infinity }, /\$\.x is Infinity/],
    [{ f: () => 1 }, /\$\.f is a function/],
    [{ p: new Product() }, /\$\.p is a Product instance/],
    [{ o: Object.create(Object.create(null)) }, /\$\.o is a class instance/],
    [{ [Symbol('k')]: 1 }, /\$ has symbol keys/],
    [circular, /\$\.self is a circular reference/],
    [Symbol('s'), /\$ is a symbol/]
  ]
  for (const [value, problem] of cases) t.match(findNonJson(value), problem)
})

t.test('deepFreeze freezes nested values once', async (t) => {
  const value = deepFreeze({ a: [{ b: 1 }] })
  t.ok(Object.isFrozen(value.a[0]))
  t.equal(deepFreeze(value), value)
  t.equal(deepFreeze(3), 3)
})

t.test('decodeEntry refuses a payload without its metadata line', async (t) => {
  t.throws(() => decodeEntry('{}'), /no metadata line/)
})

t.test('withTimeout settles with the promise or with the timeout error', async (t) => {
  t.equal(await withTimeout(Promise.resolve(1), 50, () => new Error('late')), 1)
  await t.rejects(withTimeout(new Promise(() => {}), 10, () => new Error('late')), /late/)
})

t.test('the memory store', async (t) => {
  const store = new MemoryCatalogStore()
  t.equal(await store.lock('a', 'one', 300), 0)
  t.equal(await store.lock('a', 'two', 300), undefined, 'held')
  await store.unlock('a', 'two')
  t.equal(await store.lock('a', 'three', 300), undefined, 'only the holder releases')
  await new Promise((resolve) => setTimeout(resolve, 350))
  t.equal(await store.lock('a', 'four', 300), 0, 'an expired lease is free')
  t.equal(await store.write('a', 0, 'payload', 1000), true)
  t.equal(await store.read('a'), 'payload')
  t.equal(await store.invalidate('a', true), 1)
  t.equal(await store.read('a'), 'payload', 'keepEntry')
  t.equal(await store.write('a', 0, 'old', 1000), false, 'a write from before the invalidation is refused')
  t.equal(await store.invalidate('a', false), 2)
  t.equal(await store.read('a'), undefined)
})

t.test('options are validated at registration with clear messages', async (t) => {
  const invalid: Array<[Record<string, unknown>, RegExp]> = [
    [{ timeoutMs: 0 }, /^@moolah\/fastify-catalog-cache: options\.timeoutMs must be a positive integer, got 0/],
    [{ l1MaxEntries: 1.5 }, /options\.l1MaxEntries must be a positive integer/],
    [{ lockTtlMs: 1000, loadTimeoutMs: 1000 }, /loadTimeoutMs \(1000\) must be below lockTtlMs \(1000\)/],
    [{ jitter: 1 }, /jitter must be a number from 0 up to/],
    [{ jitter: '0.1' }, /jitter must be a number/],
    [{ cacheStatusName: 'has space' }, /cacheStatusName must be a token/],
    [{ ttl: 0 }, /options\.ttl must be a positive number of seconds, got 0/],
    [{ ttl: Infinity }, /options\.ttl must be a positive number/],
    [{ staleWhileRevalidate: -1 }, /options\.staleWhileRevalidate must be a number of seconds ≥ 0/],
    [{ staleIfError: 'x' }, /options\.staleIfError must be a number of seconds/],
    [{ store: { read () {} } }, /store must implement CatalogStore; missing lock, unlock, write, invalidate, publish, subscribe/],
    [{ store: null }, /store must implement CatalogStore/],
    [{ prefix: 1 }, /prefix must be a string/],
    [{ redis: {} }, /redis must be an ioredis Redis or Cluster client/],
    [{ onEvent: 'log' }, /options\.onEvent must be a function, got string/],
    [{ isPrivateRoute: true }, /options\.isPrivateRoute must be a function/]
  ]
  for (const [options, message] of invalid) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(catalogCache, options as never) }, { name: 'TypeError', message }, JSON.stringify(options))
    await app.close()
  }
})

t.test('definitions are validated', async (t) => {
  const app = Fastify()
  await app.register(catalogCache, { lockTtlMs: 1000, loadTimeoutMs: 500 })
  t.teardown(() => app.close())
  const define = (name: unknown, definition: unknown) => () => app.catalogCache.define(name as string, definition as never)
  t.throws(define('has {braces}', { load: () => 1 }), /catalog name must be 1-200 characters/)
  t.throws(define(7, { load: () => 1 }), /catalog name must be/)
  t.throws(define('a', {}), /define\('a'\): load must be a function/)
  t.throws(define('a', undefined), /load must be a function/)
  t.throws(define('a', { load: () => 1, tags: 'x' }), /tags must be an array of strings/)
  t.throws(define('a', { load: () => 1, tags: [1] }), /tags must be an array of strings/)
  t.throws(define('a', { load: () => 1, loadTimeoutMs: 1000 }), /define\('a'\): loadTimeoutMs \(1000\) must be below lockTtlMs \(1000\)/)
  t.throws(define('a', { load: () => 1, ttl: -1 }), /define\('a'\)\.ttl must be a positive number/)
  t.doesNotThrow(define('provider:flash.v1_x-y', { load: () => 1, ttl: 0.5, staleWhileRevalidate: 0, staleIfError: 0, tags: ['t'] }))
})
