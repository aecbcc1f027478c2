import { setTimeout as sleep } from 'node:timers/promises'
import { redisPrefix, waitUntil } from '@moolah/test-utils'
import t from 'tap'
import { FENCE_MARGIN_MS } from '../src/redis-scripts.js'
import { lockSuite } from './helpers/lock-suite.js'
import { redisClient, redisStore } from './helpers/redis-clients.js'

lockSuite(t, async (t) => {
  const { prefix, url } = redisPrefix(t)
  return { store: () => redisStore(t, redisClient(t, url), { prefix }) }
})

t.test('defaults: prefix wallet-lock:, the resource as the hash tag', async (t) => {
  const { url } = redisPrefix(t)
  const redis = redisClient(t, url)
  const resource = `defaults-${process.pid}-${Date.now()}`
  const keys = ['owner', 'fence', 'queue', 'waiters'].map((name) => `wallet-lock:{${resource}}:${name}`)
  t.teardown(() => redis.del(...keys))
  const store = redisStore(t, redis, {})
  const lock = await store.acquire({ resource, token: 'token-1', ttlMs: 1000, waitMs: 0 })
  t.match(lock, { acquired: true })
  t.equal(await redis.get(keys[0] as string), 'token-1')
  t.ok(Number(await redis.get(keys[1] as string)) >= (Date.now() - 60_000) * 1000, 'the fence counter, floored by the clock in microseconds')
  t.equal(await store.release(resource, 'token-1'), true)
})

t.test('bounded bookkeeping: the fence counter expires a lease plus a margin after its fence; the queue keys with the last wait', async (t) => {
  const { prefix, url } = redisPrefix(t)
  const redis = redisClient(t, url)
  const store = redisStore(t, redis, { prefix })
  const [owner, fence, queue, waiters] = ['owner', 'fence', 'queue', 'waiters'].map((name) => `${prefix}{wallet-1}:${name}`) as [string, string, string, string]
  t.match(await store.acquire({ resource: 'wallet-1', token: 'holder', ttlMs: 200, waitMs: 0 }), { acquired: true })
  const ttl = await redis.pttl(fence)
  t.ok(ttl > 200 && ttl <= 200 + FENCE_MARGIN_MS, `the counter lives ${ttl} ms: longer than the owner key, not a day`)

  const waiting = store.acquire({ resource: 'wallet-1', token: 'waiter', ttlMs: 200, waitMs: 500 })
  await sleep(50)
  for (const key of [queue, waiters]) {
    const left = await redis.pttl(key)
    t.ok(left > 0 && left <= 500, `${key.slice(prefix.length)} expires with the wait (${left} ms)`)
  }
  t.equal(await store.release('wallet-1', 'holder'), true)
  const handedOver = await waiting
  t.match(handedOver, { acquired: true })
  t.equal(await redis.exists(queue, waiters), 0, 'the queue keys go with the last waiter')
  t.equal(await store.release('wallet-1', 'waiter'), true)
  t.equal(await redis.exists(owner), 0)
  await waitUntil(async () => (await redis.exists(fence)) === 0, 'the counter to expire', 200 + FENCE_MARGIN_MS + 2000)
  const next = await store.acquire({ resource: 'wallet-1', token: 'next', ttlMs: 200, waitMs: 0 })
  t.ok(next.acquired && handedOver.acquired && next.fence > handedOver.fence, 'the clock alone still gives a greater fence')
  await store.release('wallet-1', 'next')
})
