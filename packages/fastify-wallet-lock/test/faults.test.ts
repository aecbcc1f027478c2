import { setTimeout as sleep } from 'node:timers/promises'
import { redisClient, startRedis, waitUntil } from '@moolah/test-utils'
import t, { type Test } from 'tap'
import { recordingManager, redisStore } from './support/manager.js'

const TIMEOUT_MS = 200

async function setup(t: Test, failMode: 'closed' | 'open' = 'closed') {
  const server = await startRedis(t)
  const redis = redisClient(t, server.url)
  const store = redisStore(t, { redis, prefix: 'faults:' })
  const ready = () =>
    waitUntil(async () => (await redis.ping()) === 'PONG', 'the client to reconnect', 10_000, 50)
  return { server, redis, store, ready, ...recordingManager(store, { failMode, timeoutMs: TIMEOUT_MS }) }
}

t.test(
  'Redis stopped: acquire fails within its timeout with DEPENDENCY_UNAVAILABLE, then recovers after a restart',
  async (t) => {
    const { server, manager, events, ready } = await setup(t)
    const held = await manager.acquire('wallet-1')
    await server.stop()

    for (const waitMs of [0, 2000]) {
      const error = await manager.acquire('wallet-2', { waitMs }).catch((err: unknown) => err)
      t.match(
        error,
        {
          code: 'DEPENDENCY_UNAVAILABLE',
          statusCode: 503,
          retryAfter: 1,
          message: 'The wallet lock store is unavailable; retry shortly',
          cause: { name: 'TimeoutError' }
        },
        `waitMs ${waitMs}: the call timed out`
      )
    }
    t.match(events.at(-1), {
      type: 'store-error',
      operation: 'acquire',
      degraded: false,
      resources: ['wallet-2']
    })
    await t.rejects(held.renew(), { code: 'DEPENDENCY_UNAVAILABLE' }, 'renew cannot tell')
    t.equal(await held.release(), false, 'release never rejects; the lease just expires')
    t.match(
      events.filter((event) => event.type === 'store-error').map((event) => event.operation),
      ['acquire', 'acquire', 'renew', 'release']
    )

    await server.restart()
    await ready()
    const again = await manager.acquire('wallet-1', { waitMs: 0 })
    t.ok(again.fence > held.fence, 'the fence still increases after the restart wiped the counter')
    await again.release()
  }
)

t.test(
  'Redis paused (hung network): acquire times out, nothing hangs, and the late command is undone',
  async (t) => {
    const { server, manager, store, ready } = await setup(t)
    const other = recordingManager(store).manager
    server.pause()
    await t.rejects(manager.acquire('wallet-1', { waitMs: 0 }), {
      code: 'DEPENDENCY_UNAVAILABLE',
      cause: { name: 'TimeoutError' }
    })
    server.resume()
    await ready()
    // the acquire that timed out reached Redis late; its clean-up followed it
    const lock = await other.acquire('wallet-1', { waitMs: 1000 })
    t.pass('the timed-out acquisition left no lock behind')
    await lock.release()
  }
)

t.test('a lease that cannot be renewed while Redis hangs is reported lost before it ends', async (t) => {
  const { server, manager, events, ready } = await setup(t)
  const aborted = await manager.withLock(
    'wallet-1',
    async (lock) => {
      server.pause()
      await new Promise((resolve) => lock.signal.addEventListener('abort', resolve))
      server.resume()
      return lock.signal.reason
    },
    { leaseMs: 600 }
  )
  t.match(aborted, { code: 'CONCURRENT_REQUEST' })
  const types = events.map((event) => event.type)
  t.equal(types[0], 'acquired')
  t.ok(
    types.indexOf('store-error') > 0 && types.indexOf('store-error') < types.indexOf('lost'),
    `renewals failed before the loss: ${types.join(', ')}`
  )
  t.equal(types.at(-1), 'released')
  t.match(
    events.find((event) => event.type === 'lost'),
    { reason: 'expired' }
  )
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
  t.equal(await lock.renew(), true)
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
  t.ok(
    fences.every((fence, i) => i === 0 || fence > (fences[i - 1] as number)),
    `increasing: ${fences.join(' < ')}`
  )
  t.ok(Number.isSafeInteger(fences.at(-1)), 'safe integers')
})

t.test('a waiter whose hand-off message is lost still gets the lock by re-checking', async (t) => {
  const { redis, manager } = await setup(t)
  const deaf = redisStore(t, { redis, prefix: 'faults:' })
  const waiter = recordingManager(deaf, { timeoutMs: TIMEOUT_MS, pollMs: 50 }).manager
  await (await waiter.acquire('wallet-0')).release()
  const warm = await manager.acquire('wallet-0')
  const subscribed = waiter.acquire('wallet-0', { waitMs: 2000 }) // subscribes the store's channel
  await warm.release()
  await (await subscribed).release()
  await deaf.close() // no more hand-off messages for this store

  const holder = await manager.acquire('wallet-1', { leaseMs: 60_000 })
  const waiting = waiter.acquire('wallet-1', { waitMs: 30_000 })
  await sleep(100)
  await holder.release()
  const lock = await waiting
  t.pass(
    "found the hand-off by re-checking (the wait is 30 s and the holder's lease 60 s: nothing else could have told it)"
  )
  await lock.release()
})

t.test("a dead waiter's queue entry is skipped once its deadline passes", async (t) => {
  const { redis, manager } = await setup(t)
  const holder = await manager.acquire('wallet-1', { leaseMs: 60_000 })
  // what a process that queued and then died leaves behind
  const record = 'faults:{wallet-1}'
  const dead = redisStore(t, { redis, prefix: 'faults:' })
  t.match(
    await dead.acquire({
      resource: 'wallet-1',
      token: 'dead-token',
      leaseMs: 5000,
      waitMs: 100,
      reserve: false
    }),
    { acquired: false }
  )
  await dead.close()
  // re-checks far apart: only the hand-off can wake it in time
  const waiting = recordingManager(redisStore(t, { redis, prefix: 'faults:' }), {
    pollMs: 60_000
  }).manager.acquire('wallet-1', { waitMs: 30_000 })
  await sleep(200)
  await holder.release()
  const lock = await waiting
  t.pass('handed to the live waiter behind the dead one')
  t.match(await redis.get(record), new RegExp(`:${lock.token}$`))
  await lock.release()
})

t.test('after Redis comes back, hand-off messages arrive again (the subscriber re-subscribes)', async (t) => {
  const server = await startRedis(t)
  const redis = redisClient(t, server.url)
  const manager = () =>
    recordingManager(redisStore(t, { redis, prefix: 'faults:' }), { timeoutMs: TIMEOUT_MS, pollMs: 60_000 })
      .manager
  const holder = manager()
  const waiter = manager() // re-checks too rarely to hide a missing message
  const handOff = async (): Promise<void> => {
    const held = await holder.acquire('wallet-1', { leaseMs: 60_000 })
    const waiting = waiter.acquire('wallet-1', { waitMs: 30_000 })
    await sleep(50)
    await held.release()
    await (await waiting).release()
  }
  await handOff()
  t.pass('handed over before the restart')
  await server.restart()
  await waitUntil(async () => (await redis.ping()) === 'PONG', 'the client to reconnect', 10_000, 50)
  await handOff()
  t.pass('handed over after the restart: the hand-off connection subscribed again')
})
