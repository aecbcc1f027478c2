import t from 'tap'
import { MemoryWalletLockStore } from '../src/index.js'
import { storeContract } from './support/store-contract.js'

// Managers sharing one memory store behave like processes sharing Redis
storeContract(t, async (t) => {
  const store = new MemoryWalletLockStore()
  t.teardown(() => store.close())
  return { store: () => store }
})

t.test('close forgets every lock and leaves no lease timer running', async (t) => {
  const store = new MemoryWalletLockStore()
  t.match(await store.acquire({ resource: 'a', token: 't1', leaseMs: 60_000, waitMs: 0, reserve: false }), {
    acquired: true
  })
  await store.close()
  t.match(
    await store.acquire({ resource: 'a', token: 't2', leaseMs: 1000, waitMs: 0, reserve: false }),
    { acquired: true },
    'the old lock is gone'
  )
  await store.close()
})

t.test(
  'a waiter whose deadline passed is skipped by the hand-off; one not queued is never woken',
  async (t) => {
    const store = new MemoryWalletLockStore()
    t.teardown(() => store.close())
    t.match(
      await store.acquire({ resource: 'a', token: 'holder', leaseMs: 60_000, waitMs: 0, reserve: false }),
      { acquired: true }
    )
    t.match(await store.acquire({ resource: 'a', token: 'gone', leaseMs: 1000, waitMs: 1, reserve: false }), {
      acquired: false
    })
    t.match(
      await store.acquire({ resource: 'a', token: 'live', leaseMs: 1000, waitMs: 60_000, reserve: false }),
      { acquired: false }
    )
    t.match(
      await store.acquire({ resource: 'a', token: 'live', leaseMs: 1000, waitMs: 60_000, reserve: false }),
      { acquired: false },
      'asking again keeps its place'
    )
    await new Promise((resolve) => setTimeout(resolve, 10))
    t.equal(await store.release('a', 'holder'), true)
    const handed = await store.handedOver('a', 'live', 1000, undefined)
    t.match(
      handed,
      { acquired: true },
      'handed to the live waiter, at once: it was handed over before it looked'
    )
    t.same(
      await store.acquire({ resource: 'a', token: 'live', leaseMs: 1000, waitMs: 60_000, reserve: false }),
      handed,
      'a re-check finds the same grant'
    )
    t.equal(
      await store.handedOver('a', 'stranger', 10, undefined),
      undefined,
      'a token that is not queued waits its time and re-checks'
    )
    t.equal(await store.release('a', 'stranger'), false)
    t.equal(await store.release('b', 'stranger'), false, 'nothing held')
  }
)
