import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { FENCES_PER_GRANT } from '../src/stores/store.js'
import type { WalletLockStore } from '../src/index.js'
import { alteredStore } from './support/altered-store.js'
import { recordingManager } from './support/manager.js'

// A release hands the resource straight to the next caller waiting in the same process while its
// turn lasts (turnMs since the store's grant, fences the grant reserved, enough lease): no store
// round trip. The same behaviour through a real Redis is in the lock suite and the benchmark.

/**
 * A memory store that counts what the manager asks of it: `acquire`, the acquisitions that asked
 * for a resource (a waiter's re-checks are not counted again), and `release`, the releases.
 */
function countingStore(): { store: WalletLockStore; calls: { acquire: number; release: number } } {
  const calls = { acquire: 0, release: 0 }
  const asked = new Set<string>()
  const store = alteredStore((inner) => ({
    acquire: (request) => {
      asked.add(`${request.token}|${request.resource}`)
      calls.acquire = asked.size
      return inner.acquire(request)
    },
    release: (resource, token) => {
      calls.release++
      return inner.release(resource, token)
    }
  }))
  return { store, calls }
}

t.test(
  'callers of one process waiting for a resource get it from the holder, in order, with the next fences and no store call',
  async (t) => {
    const { store, calls } = countingStore()
    const { manager, events } = recordingManager(store, { turnMs: 60_000 })
    const first = await manager.acquire('w1')
    const order: number[] = []
    const fences: number[] = []
    const waiting = Array.from({ length: 5 }, (_, i) =>
      manager.withLock('w1', async (lock) => {
        order.push(i)
        fences.push(lock.fence)
        t.not(lock.token, first.token, 'each acquisition has its own token')
      })
    )
    await sleep(20) // all five in line
    t.equal(await first.release(), true)
    await Promise.all(waiting)
    t.same(order, [0, 1, 2, 3, 4], 'first come first served')
    t.same(
      fences,
      [1, 2, 3, 4, 5].map((i) => first.fence + i),
      'each holder the next fence the grant reserved'
    )
    t.same(calls, { acquire: 1, release: 1 }, 'the store saw one grant and one release')
    t.equal(events.filter((event) => event.type === 'acquired').length, 6)
    const after = await recordingManager(store).manager.acquire('w1', { waitMs: 0 })
    t.ok(after.fence > (fences.at(-1) as number), 'the next grant is above every fence of the turn')
    await after.release()
  }
)

t.test('turnMs 0: every release goes through the store', async (t) => {
  const { store, calls } = countingStore()
  const { manager } = recordingManager(store, { turnMs: 0 })
  const first = await manager.acquire('w1')
  const waiting = Array.from({ length: 3 }, () => manager.withLock('w1', async () => {}))
  await sleep(20)
  await first.release()
  await Promise.all(waiting)
  t.same(calls, { acquire: 4, release: 4 })
})

t.test('a turn ends after turnMs: the resource goes back to the store', async (t) => {
  const { store, calls } = countingStore()
  const { manager } = recordingManager(store, { turnMs: 50 })
  const first = await manager.acquire('w1')
  const second = manager.acquire('w1')
  await sleep(80) // the turn is older than turnMs
  await first.release()
  await (await second).release()
  t.same(calls, { acquire: 2, release: 2 }, 'the waiter asked the store')
})

t.test('a turn ends when the fences its grant reserved are used up', async (t) => {
  const { store, calls } = countingStore()
  const { manager } = recordingManager(store, { turnMs: 60_000 })
  const first = await manager.acquire('w1')
  const fences: number[] = []
  const waiting = Array.from({ length: FENCES_PER_GRANT + 5 }, () =>
    manager.withLock('w1', async (lock) => {
      fences.push(lock.fence)
    })
  )
  await sleep(20)
  await first.release()
  await Promise.all(waiting)
  t.ok(
    fences.every((fence, i) => i === 0 || fence > (fences[i - 1] as number)),
    'fences strictly increase'
  )
  t.ok(
    calls.acquire >= 2,
    `the store granted again after ${FENCES_PER_GRANT} fences (${calls.acquire} grants)`
  )
})

t.test(
  'a turn whose lease is mostly spent is not passed on: the next caller gets a whole lease from the store',
  async (t) => {
    const { store, calls } = countingStore()
    const { manager } = recordingManager(store, { turnMs: 60_000 })
    const first = await manager.acquire('w1', { leaseMs: 300 })
    const second = manager.acquire('w1', { leaseMs: 60_000 }) // wants more than the 300 ms the turn has
    await sleep(20)
    await first.release()
    const lock = await second
    t.same(calls, { acquire: 2, release: 1 })
    await sleep(400)
    t.equal(lock.signal.aborted, false, 'its own lease, from its own grant')
    await lock.release()
  }
)

t.test('a lock passed on keeps the lease of its turn: lost when that ends unless renewed', async (t) => {
  const { store } = countingStore()
  const { manager, events } = recordingManager(store, { turnMs: 60_000 })
  const first = await manager.acquire('w1', { leaseMs: 4000 })
  const passed = manager.acquire('w1', { leaseMs: 600, waitMs: 30_000 })
  // Most of the turn's lease is spent before the pass: it ends about 1 s after it, a fresh one 4 s after.
  await sleep(3000)
  await first.release()
  // The yardstick: a fresh 4 s lease taken at the pass, on the same timers, so load delays both alike
  const fresh = await manager.acquire('w2', { leaseMs: 4000 })
  const lock = await passed
  const order: string[] = []
  const lostInOrder = (name: string, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) =>
      signal.addEventListener('abort', () => {
        order.push(name)
        resolve()
      })
    )
  // the lease timers do not keep the process alive
  await Promise.race([
    Promise.all([lostInOrder('passed', lock.signal), lostInOrder('fresh', fresh.signal)]),
    sleep(15_000)
  ])
  t.same(
    order,
    ['passed', 'fresh'],
    "the passed lock ends with its turn's lease, before a fresh lease from the pass"
  )
  t.match(
    events.filter((event) => event.type === 'lost'),
    [
      { reason: 'expired', resources: ['w1'] },
      { reason: 'expired', resources: ['w2'] }
    ]
  )
  t.equal(await lock.release(), false)
  t.equal(await fresh.release(), false)

  const renewedFirst = await manager.acquire('w2', { leaseMs: 1500 })
  const renewed = manager.withLock(
    'w2',
    async (held) => {
      await sleep(2500)
      return held.signal.aborted
    },
    { leaseMs: 1500, waitMs: 30_000 }
  )
  await sleep(50)
  await renewedFirst.release()
  t.equal(
    await renewed,
    false,
    'withLock renews a passed lock in time (its first renewal counts from the turn)'
  )
})

t.test('a lost lock passes nothing on: the next caller asks the store', async (t) => {
  const asked = new Set<string>()
  const store = alteredStore((inner) => ({
    acquire: (request) => {
      asked.add(request.token)
      return inner.acquire(request)
    },
    renew: async () => false
  }))
  const { manager } = recordingManager(store, { turnMs: 60_000 })
  const first = await manager.acquire('w1')
  const next = manager.acquire('w1', { waitMs: 300 }) // far less than the 5 s lease the store keeps for the lost token
  t.equal(await first.renew(), false, 'the store says another token holds it')
  t.equal(first.signal.aborted, true)
  await t.rejects(
    next,
    { code: 'CONCURRENT_REQUEST' },
    'the store still holds it for the lost token: busy, not handed over'
  )
  t.equal(asked.size, 2, 'both acquisitions asked the store')
  t.equal(await first.release(), false)
})

t.test('several resources are passed on one by one', async (t) => {
  const { store, calls } = countingStore()
  const { manager } = recordingManager(store, { turnMs: 60_000 })
  const first = await manager.acquire(['w1', 'w2'])
  const waiting = Array.from({ length: 3 }, () => manager.withLock(['w2', 'w1'], async (lock) => lock.fences))
  await sleep(20)
  await first.release()
  const fences = await Promise.all(waiting)
  t.same(
    fences.map((held) => held.w1),
    [1, 2, 3].map((i) => (first.fences.w1 as number) + i),
    'w1 passed on three times'
  )
  const w2 = [first.fences.w2, ...fences.map((held) => held.w2)] as number[]
  t.ok(
    w2.every((fence, i) => i === 0 || fence > (w2[i - 1] as number)),
    'w2 fences increase (passed on, or granted again: the memory store reserves a block only when the clock has passed its last fence)'
  )
  t.ok(calls.acquire < 2 + 3 * 2, `${calls.acquire} store grants for 8 resource acquisitions`)
})

t.test(
  'an acquisition that fails gives back what it took through the store, never passing it on',
  async (t) => {
    const { store, calls } = countingStore()
    const { manager } = recordingManager(store, { turnMs: 60_000 })
    const holdB = await recordingManager(store).manager.acquire('B')
    const failing = manager.acquire(['A', 'B'], { waitMs: 200 })
    await sleep(50) // A is taken, B is waited for
    const waitsForA = manager.acquire('A', { waitMs: 2000 }) // lines up behind it in this process
    await t.rejects(failing, { code: 'CONCURRENT_REQUEST' })
    const a = await waitsForA
    t.same(
      calls,
      { acquire: 4, release: 2 },
      'the waiter for B left the queue, A went back to the store, and the waiter asked the store for it'
    )
    await a.release()
    await holdB.release()
  }
)

t.test(
  'a store that reserves no fences (lastFence left out, e.g. a custom store): nothing is passed on',
  async (t) => {
    const calls = { acquire: 0 }
    const store = alteredStore((inner) => ({
      acquire: async (request) => {
        calls.acquire++
        const result = await inner.acquire(request)
        return result.acquired ? { acquired: true, fence: result.fence, grantedAt: result.grantedAt } : result
      }
    }))
    const { manager } = recordingManager(store, { turnMs: 60_000 })
    const first = await manager.acquire('w1')
    const second = manager.acquire('w1')
    await sleep(20)
    await first.release()
    const lock = await second
    t.ok(lock.fence > first.fence)
    t.equal(calls.acquire, 2, 'the waiter asked the store')
    await lock.release()
  }
)
