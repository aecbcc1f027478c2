import { setTimeout as sleep } from 'node:timers/promises'
import { redisClient, redisPrefix, waitUntil } from '@moolah/test-utils'
import t from 'tap'
import { FENCE_MARGIN_MS } from '../src/stores/redis-scripts.js'
import { FENCES_PER_GRANT } from '../src/stores/store.js'
import { redisStore } from './support/manager.js'
import { storeContract } from './support/store-contract.js'

storeContract(t, async (t) => {
  const { prefix, url } = redisPrefix(t)
  return { store: () => redisStore(t, { redis: redisClient(t, url), prefix }) }
})

t.test('defaults: prefix wallet-lock:, the resource as the hash tag; one record key while nobody waits', async (t) => {
  const { url } = redisPrefix(t)
  const redis = redisClient(t, url)
  const resource = `defaults-${process.pid}-${Date.now()}`
  const record = `wallet-lock:{${resource}}`
  t.teardown(() => redis.del(record))
  const store = redisStore(t, { redis })
  const before = Date.now() * 1000
  const first = await store.acquire({ resource, token: 'token-1', leaseMs: 1000, waitMs: 0 })
  if (!first.acquired) throw new Error('not acquired')
  t.ok(first.fence > before - 60_000_000, 'the fence is floored by the clock in microseconds')
  t.equal(first.lastFence, first.fence, 'no record yet (never used, flushed, restarted): a fence above the clock, and no block')
  t.match(await redis.get(record), new RegExp(`^${first.fence}:\\d+:0:token-1$`), 'last fence : lease end : nobody queued : holder')
  t.same(await redis.keys(`wallet-lock:{${resource}}*`), [record], 'no queue keys while nobody waits')
  t.equal(await store.release(resource, 'token-1'), true)
  t.match(await redis.get(record), new RegExp(`^${first.fence}:0:0:$`), 'released: the fence stays, the holder goes')
  await waitUntil(async () => Date.now() * 1000 > first.fence + 1000, "the clock to pass the last fence", 2000, 1)
  const second = await store.acquire({ resource, token: 'token-2', leaseMs: 1000, waitMs: 0 })
  if (!second.acquired) throw new Error('not acquired')
  t.ok(second.fence > first.fence, 'the next grant is above every fence handed out before')
  t.equal(second.lastFence, second.fence + FENCES_PER_GRANT - 1, 'the clock is past every fence handed out: the grant reserves a block')
  t.equal(await store.release(resource, 'token-2'), true)
})

t.test('bounded bookkeeping: the record expires a lease plus a margin after its last fence, never before the queue; the queue keys with the last wait', async (t) => {
  const { prefix, url } = redisPrefix(t)
  const redis = redisClient(t, url)
  const store = redisStore(t, { redis, prefix })
  const record = `${prefix}{wallet-1}`
  const [queue, waiters] = [`${record}:queue`, `${record}:waiters`]
  t.match(await store.acquire({ resource: 'wallet-1', token: 'holder', leaseMs: 200, waitMs: 0 }), { acquired: true })
  const ttl = await redis.pttl(record)
  // + 1: a record's first fence is 64 µs ahead of the clock, which can round its expiry up a millisecond
  t.ok(ttl > 200 && ttl <= 200 + FENCE_MARGIN_MS + 1, `the record lives ${ttl} ms: longer than the lease, not a day`)

  t.match(await store.acquire({ resource: 'wallet-1', token: 'waiter', leaseMs: 200, waitMs: 3000 }), { acquired: false }, 'busy: queued')
  t.equal(await redis.exists(queue), 1)
  for (const key of [queue, waiters]) {
    const left = await redis.pttl(key)
    t.ok(left > 0 && left <= 3000, `${key.slice(prefix.length)} expires with the wait (${left} ms)`)
  }
  t.ok(await redis.pttl(record) >= await redis.pttl(queue), 'the record (and its "queued" mark) outlives the queue')
  t.match(await redis.get(record), /:1:holder$/, 'marked queued')
  t.equal(await store.release('wallet-1', 'holder'), true)
  const handedOver = await store.handedOver('wallet-1', 'waiter', 3000, undefined)
  t.match(handedOver, { acquired: true })
  t.equal(await redis.exists(queue, waiters), 0, 'the queue keys go with the last waiter')
  t.match(await redis.get(record), /:0:waiter$/, 'handed over, nobody queued any more')
  t.equal(await store.release('wallet-1', 'waiter'), true)
  await waitUntil(async () => (await redis.exists(record)) === 0, 'the record to expire', 200 + FENCE_MARGIN_MS + 2000)
  const next = await store.acquire({ resource: 'wallet-1', token: 'next', leaseMs: 200, waitMs: 0 })
  t.ok(next.acquired && handedOver !== undefined && next.fence > (handedOver.lastFence ?? handedOver.fence), 'the clock alone still gives a greater fence')
  await store.release('wallet-1', 'next')
})

t.test('a release finds only waiters past their deadline: the resource is marked free and unqueued', async (t) => {
  const { prefix, url } = redisPrefix(t)
  const redis = redisClient(t, url)
  const store = redisStore(t, { redis, prefix })
  const record = `${prefix}{wallet-1}`
  t.match(await store.acquire({ resource: 'wallet-1', token: 'holder', leaseMs: 5000, waitMs: 0 }), { acquired: true })
  // what processes that queued and then died leave behind
  for (const token of ['dead-1', 'dead-2']) {
    t.match(await store.acquire({ resource: 'wallet-1', token, leaseMs: 5000, waitMs: 30 }), { acquired: false }, `${token} queued behind the holder`)
  }
  t.match(await redis.get(record), /:1:holder$/, 'marked queued')
  await sleep(60) // their deadlines (30 ms) pass
  t.equal(await store.release('wallet-1', 'holder'), true)
  t.match(await redis.get(record), /^\d+:0:0:$/, 'nobody was handed the lock')
  t.equal(await redis.exists(`${record}:queue`), 0)
  t.match(await store.acquire({ resource: 'wallet-1', token: 'next', leaseMs: 1000, waitMs: 0 }), { acquired: true })
  await store.release('wallet-1', 'next')
})
