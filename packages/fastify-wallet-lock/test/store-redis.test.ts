import { setTimeout as sleep } from 'node:timers/promises'
import { redisClient, redisPrefix, waitUntil } from '@moolah/test-utils'
import t from 'tap'
import { FENCES_PER_GRANT } from '../src/stores/store.js'
import { redisStore } from './support/manager.js'
import { storeContract } from './support/store-contract.js'

storeContract(t, async (t) => {
  const { prefix, url } = redisPrefix(t)
  return { store: () => redisStore(t, { redis: redisClient(t, url), prefix }) }
})

t.test(
  'defaults: prefix wallet-lock:, the resource as the hash tag; one record key while nobody waits; the clock only when the record is missing or a block is asked for',
  async (t) => {
    const { url } = redisPrefix(t)
    const redis = redisClient(t, url)
    const resource = `defaults-${process.pid}-${Date.now()}`
    const record = `wallet-lock:{${resource}}`
    t.teardown(() => redis.del(record))
    const store = redisStore(t, { redis })
    const before = Date.now() * 1000
    const first = await store.acquire({
      resource,
      token: 'token-1',
      leaseMs: 1000,
      waitMs: 0,
      reserve: false
    })
    if (!first.acquired) throw new Error('not acquired')
    t.ok(
      first.fence > before - 60_000_000,
      'no record yet (never used, flushed, restarted): the fence is floored by the clock in microseconds'
    )
    t.equal(first.lastFence, first.fence, 'and no block')
    t.match(
      await redis.get(record),
      new RegExp(`^${first.fence}:0:token-1$`),
      'last fence : nobody queued : holder'
    )
    const ttl = await redis.pttl(record)
    t.ok(ttl > 0 && ttl <= 1000, `the record's TTL is the lease (${ttl} ms)`)
    t.same(await redis.keys(`wallet-lock:{${resource}}*`), [record], 'no queue keys while nobody waits')
    t.equal(await store.release(resource, 'token-1'), true)
    t.match(
      await redis.get(record),
      new RegExp(`^${first.fence}:0:$`),
      'released: the fence stays, the holder goes'
    )
    t.ok((await redis.pttl(record)) <= ttl, 'and the rest of the TTL')

    const second = await store.acquire({
      resource,
      token: 'token-2',
      leaseMs: 1000,
      waitMs: 0,
      reserve: false
    })
    t.same(
      second,
      {
        acquired: true,
        fence: first.fence + 1,
        lastFence: first.fence + 1,
        grantedAt: (second as { grantedAt: number }).grantedAt
      },
      'the record is there: last + 1, no clock'
    )
    t.equal(await store.release(resource, 'token-2'), true)

    await waitUntil(
      async () => Date.now() * 1000 > first.fence + 1000,
      'the clock to pass the last fence',
      2000,
      1
    )
    const third = await store.acquire({ resource, token: 'token-3', leaseMs: 1000, waitMs: 0, reserve: true })
    if (!third.acquired) throw new Error('not acquired')
    t.ok(third.fence > first.fence + 1, 'the next grant is above every fence handed out before')
    t.equal(
      third.lastFence,
      third.fence + FENCES_PER_GRANT - 1,
      'a block asked for, and the clock is past every fence handed out: the grant reserves one'
    )
    t.equal(await store.release(resource, 'token-3'), true)
    const fourth = await store.acquire({
      resource,
      token: 'token-4',
      leaseMs: 1000,
      waitMs: 0,
      reserve: false
    })
    if (!fourth.acquired) throw new Error('not acquired')
    t.equal(fourth.fence, (third.lastFence as number) + 1, 'above the block, with no clock')
    t.equal(fourth.lastFence, fourth.fence)
    t.equal(await store.release(resource, 'token-4'), true)
  }
)

t.test(
  'bounded bookkeeping: the record lives as long as the lease; the queue keys with the last wait; a record gone with waiters queued still hands over in order',
  async (t) => {
    const { prefix, url } = redisPrefix(t)
    const redis = redisClient(t, url)
    const store = redisStore(t, { redis, prefix })
    const record = `${prefix}{wallet-1}`
    const [queue, waiters] = [`${record}:queue`, `${record}:waiters`]
    t.match(
      await store.acquire({ resource: 'wallet-1', token: 'holder', leaseMs: 300, waitMs: 0, reserve: false }),
      { acquired: true }
    )
    t.match(
      await store.acquire({
        resource: 'wallet-1',
        token: 'waiter',
        leaseMs: 60_000,
        waitMs: 60_000,
        reserve: false
      }),
      { acquired: false },
      'busy: queued'
    )
    for (const key of [queue, waiters]) {
      const left = await redis.pttl(key)
      t.ok(left > 0 && left <= 60_000, `${key.slice(prefix.length)} expires with the wait (${left} ms)`)
    }
    t.match(await redis.get(record), /:1:holder$/, 'marked queued')
    await waitUntil(
      async () => (await redis.exists(record)) === 0,
      "the holder's lease to end (it never releases)",
      10_000
    )
    t.match(
      await store.acquire({
        resource: 'wallet-1',
        token: 'newcomer',
        leaseMs: 1000,
        waitMs: 0,
        reserve: false
      }),
      { acquired: false },
      'a newcomer does not jump the queue: the first waiter was handed the resource'
    )
    const handedOver =
      (await store.handedOver('wallet-1', 'waiter', 10_000, undefined)) ??
      (await store.acquire({
        resource: 'wallet-1',
        token: 'waiter',
        leaseMs: 60_000,
        waitMs: 60_000,
        reserve: false
      }))
    t.match(handedOver, { acquired: true })
    t.equal(await redis.exists(queue, waiters), 0, 'the queue keys go with the last waiter')
    t.match(await redis.get(record), /:0:waiter$/, 'handed over, nobody queued any more')
    t.equal(await store.release('wallet-1', 'waiter'), true)
    t.equal(await store.release('wallet-1', 'waiter'), false, 'a second release owns nothing')
  }
)

t.test(
  'a release finds only waiters past their deadline: the resource is marked free and unqueued',
  async (t) => {
    const { prefix, url } = redisPrefix(t)
    const redis = redisClient(t, url)
    const store = redisStore(t, { redis, prefix })
    const record = `${prefix}{wallet-1}`
    t.match(
      await store.acquire({
        resource: 'wallet-1',
        token: 'holder',
        leaseMs: 5000,
        waitMs: 0,
        reserve: false
      }),
      { acquired: true }
    )
    // what processes that queued and then died leave behind
    for (const token of ['dead-1', 'dead-2']) {
      t.match(
        await store.acquire({ resource: 'wallet-1', token, leaseMs: 5000, waitMs: 30, reserve: false }),
        { acquired: false },
        `${token} queued behind the holder`
      )
    }
    t.match(await redis.get(record), /:1:holder$/, 'marked queued')
    await sleep(60) // their deadlines (30 ms) pass
    t.equal(await store.release('wallet-1', 'holder'), true)
    t.match(await redis.get(record), /^\d+:0:$/, 'nobody was handed the lock')
    t.equal(await redis.exists(`${record}:queue`), 0)
    t.match(
      await store.acquire({ resource: 'wallet-1', token: 'next', leaseMs: 1000, waitMs: 0, reserve: false }),
      { acquired: true }
    )
    await store.release('wallet-1', 'next')
  }
)
