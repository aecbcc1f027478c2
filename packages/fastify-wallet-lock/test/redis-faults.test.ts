import { setTimeout as sleep } from 'node:timers/promises'
import { startRedis, waitUntil } from '@moolah/test-utils'
import t, { type Test } from 'tap'
import { recordingManager } from './helpers/manager.js'
import { redisClient, redisStore } from './helpers/redis-clients.js'

const TIMEOUT_MS = 200

async function setup(t: Test, failMode: 'closed' | 'open' = 'closed') {
  const server = await startRedis(t)
  const redis = redisClient(t, server.url)
  const store = redisStore(t, redis, { prefix: 'faults:', timeoutMs: TIMEOUT_MS })
  const ready = () => waitUntil(async () => (await redis.ping()) === 'PONG', 'the client to reconnect', 10_000, 50)
  return { server, redis, store, ready, ...recordingManager(store, { failMode }) }
}

t.test('Redis stopped: acquire fails within its timeout with DEPENDENCY_UNAVAILABLE, then recovers after a restart', async (t) => {
  const { server, manager, events, ready } = await setup(t)
  const held = await manager.acquire('wallet-1')
  await server.stop()

  for (const waitMs of [0, 2000]) {
    const started = Date.now()
    const error = await manager.acquire('wallet-2', { waitMs }).catch((err: unknown) => err)
    t.match(error, { code: 'DEPENDENCY_UNAVAILABLE', statusCode: 503, retryAfter: 1 }, `waitMs ${waitMs}`)
    t.ok(Date.now() - started < TIMEOUT_MS + 300, `failed after ${Date.now() - started} ms, within the call timeout`)
  }
  t.match(events.at(-1), { type: 'store-error', operation: 'acquire', degraded: false, resources: ['wallet-2'] })
  await t.rejects(held.extend(), { code: 'DEPENDENCY_UNAVAILABLE' }, 'extend cannot tell')
  t.equal(await held.release(), false, 'release never rejects; the lease just expires')
  t.match(events.filter((event) => event.type === 'store-error').map((event) => event.operation), ['acquire', 'acquire', 'extend', 'release'])

  await server.restart()
  await ready()
  const again = await manager.acquire('wallet-1', { waitMs: 0 })
  t.ok(again.fence > held.fence, 'the fence still increases after the restart wiped the counter')
  await again.release()
})

t.test('Redis paused (hung network): acquire times out, nothing hangs, and the late command is undone', async (t) => {
  const { server, manager, store, ready } = await setup(t)
  const other = recordingManager(store).manager
  server.pause()
  const started = Date.now()
  await t.rejects(manager.acquire('wallet-1', { waitMs: 0 }), { code: 'DEPENDENCY_UNAVAILABLE' })
  t.ok(Date.now() - started < TIMEOUT_MS + 300)
  server.resume()
  await ready()
  // the acquire that timed out reached Redis late; its clean-up followed it
  const lock = await other.acquire('wallet-1', { waitMs: 1000 })
  t.pass('the timed-out acquisition left no lock behind')
  await lock.release()
})

t.test('a lease that cannot be renewed while Redis hangs is reported lost before it ends', async (t) => {
  const { server, manager, events, ready } = await setup(t)
  const aborted = await manager.withLock('wallet-1', async (lock) => {
    server.pause()
    await new Promise((resolve) => lock.signal.addEventListener('abort', resolve))
    server.resume()
    return lock.signal.reason
  }, { ttlMs: 400 })
  t.match(aborted, { code: 'CONCURRENT_REQUEST' })
  t.match(events.map((event) => event.type), ['acquired', 'store-error', 'lost', 'released'])
  t.match(events.find((event) => event.type === 'lost'), { reason: 'expired' })
  await ready()
})

t.test("failMode 'open': a store failure lets the caller go on without a lock, loudly", async (t) => {
  const { server, manager, events, warnings } = await setup(t, 'open')
  await server.stop()
  const lock = await manager.acquire(['wallet-2', 'wallet-1'])
  t.equal(lock.degraded, true)
  t.same(lock.resources, ['wallet-1', 'wallet-2'])
  t.ok(lock.fence >= (Date.now() - 1000) * 1000, 'a clock-based fence')
  t.same(lock.fences, { 'wallet-1': lock.fence, 'wallet-2': lock.fence })
  t.equal(lock.signal.aborted, false)
  t.equal(await lock.extend(), true)
  t.equal(await lock.release(), true)
  t.match(events, [{ type: 'store-error', operation: 'acquire', degraded: true }])
  t.match(warnings, [/WITHOUT a lock/])
})

t.test('fences keep increasing across a Redis restart and a FLUSHALL', async (t) => {
  const { server, manager, ready } = await setup(t)
  const fences: number[] = []
  const take = async (): Promise<void> => {
    const lock = await manager.acquire('wallet-1', { waitMs: 0 })
    fences.push(lock.fence)
    await lock.release()
  }
  await take()
  await take()
  await server.restart()
  await ready()
  await take()
  await server.flushAll()
  await take()
  t.ok(fences.every((fence, i) => i === 0 || fence > (fences[i - 1] as number)), `increasing: ${fences.join(' < ')}`)
  t.ok(Number.isSafeInteger(fences.at(-1)), 'safe integers')
})

t.test('a waiter whose hand-off message is lost still gets the lock by re-checking', async (t) => {
  const { redis, manager } = await setup(t)
  const deaf = redisStore(t, redis, { prefix: 'faults:', timeoutMs: TIMEOUT_MS, pollMs: 50 })
  const waiter = recordingManager(deaf).manager
  await (await waiter.acquire('wallet-0')).release()
  const warm = await manager.acquire('wallet-0')
  const subscribed = waiter.acquire('wallet-0', { waitMs: 2000 }) // subscribes the store's channel
  await warm.release()
  await (await subscribed).release()
  await deaf.close() // no more hand-off messages for this store

  const holder = await manager.acquire('wallet-1')
  const waiting = waiter.acquire('wallet-1', { waitMs: 2000 })
  await sleep(100)
  const releasedAt = Date.now()
  await holder.release()
  const lock = await waiting
  t.ok(Date.now() - releasedAt < 200, `found the hand-off by re-checking after ${Date.now() - releasedAt} ms`)
  await lock.release()
})

t.test("a dead waiter's queue entry is skipped once its deadline passes", async (t) => {
  const { redis, manager } = await setup(t)
  const holder = await manager.acquire('wallet-1')
  // what a process that queued and then died leaves behind
  const record = 'faults:{wallet-1}'
  await (redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>).walletLockAcquire?.(record, `${record}:queue`, `${record}:waiters`, 'dead-token', 5000, 100, 'faults:hand-off:nobody')
  const waiting = recordingManager(redisStore(t, redis, { prefix: 'faults:' })).manager.acquire('wallet-1', { waitMs: 3000 })
  await sleep(200)
  const releasedAt = Date.now()
  await holder.release()
  const lock = await waiting
  t.ok(Date.now() - releasedAt < 100, 'handed to the live waiter behind the dead one at once')
  t.match(await redis.get(record), new RegExp(`:${lock.token}$`))
  await lock.release()
})

t.test('after Redis comes back, hand-off messages arrive again (the subscriber re-subscribes)', async (t) => {
  const server = await startRedis(t)
  const redis = redisClient(t, server.url)
  const manager = (pollMs: number) => recordingManager(redisStore(t, redis, { prefix: 'faults:', timeoutMs: TIMEOUT_MS, pollMs })).manager
  const holder = manager(5000)
  const waiter = manager(5000) // re-checks too rarely to hide a missing message
  const handOff = async (): Promise<number> => {
    const held = await holder.acquire('wallet-1')
    const waiting = waiter.acquire('wallet-1', { waitMs: 3000 })
    await sleep(50)
    const releasedAt = Date.now()
    await held.release()
    await (await waiting).release()
    return Date.now() - releasedAt
  }
  t.ok(await handOff() < 200, 'prompt before the restart')
  await server.restart()
  await waitUntil(async () => (await redis.ping()) === 'PONG', 'the client to reconnect', 10_000, 50)
  const afterMs = await handOff()
  t.ok(afterMs < 200, `prompt after the restart (${afterMs} ms)`)
})
