import { setTimeout as sleep } from 'node:timers/promises'
import { waitUntil } from '@moolah/test-utils'
import type { Test } from 'tap'
import type {
  WalletLockEvent,
  WalletLockManager,
  WalletLockManagerOptions,
  WalletLockStore
} from '../../src/index.js'
import { recordingManager } from './manager.js'

/** What one test needs: managers that each talk to the store over their own connection. */
export interface LockFixture {
  /** A store on a new connection (memory: the one shared store). */
  store(): WalletLockStore
}

export interface Managed {
  manager: WalletLockManager
  store: WalletLockStore
  events: WalletLockEvent[]
}

export function managed(
  fixture: LockFixture,
  options: Partial<Pick<WalletLockManagerOptions, 'pollMs'>> = {}
): Managed {
  const store = fixture.store()
  return { store, ...recordingManager(store, options) }
}

/** Three managers on their own connections: the shape of three processes. */
function threeManaged(fixture: LockFixture): [Managed, Managed, Managed] {
  return [managed(fixture), managed(fixture), managed(fixture)]
}

/** Counts overlapping critical sections and their total. */
class Section {
  inside = 0
  overlaps = 0
  runs = 0
  async run(work: () => Promise<void> = () => sleep(Math.random() * 2)): Promise<void> {
    this.inside++
    if (this.inside > 1) this.overlaps++
    await work()
    this.inside--
    this.runs++
  }
}

const types = (events: WalletLockEvent[]): string[] => events.map((event) => event.type)

/**
 * What every WalletLockStore must do, with the plugin's manager on top of it and several
 * connections sharing the store. Each store-*.test.ts runs it against one kind of store (memory,
 * a single Redis, a Redis Cluster); `setup` gives a fixture whose stores share one lock space.
 */
export function storeContract(t: Test, setup: (t: Test) => Promise<LockFixture>): void {
  t.test('mutual exclusion: concurrent withLock callers on several connections never overlap', async (t) => {
    const fixture = await setup(t)
    const clients = Array.from({ length: 4 }, () => managed(fixture))
    const section = new Section()
    let counter = 0
    const fences: number[] = []
    await Promise.all(
      clients.flatMap(({ manager }) =>
        Array.from({ length: 8 }, async () => {
          for (let i = 0; i < 5; i++) {
            await manager.withLock('wallet-1', (lock) =>
              section.run(async () => {
                fences.push(lock.fence)
                const read = counter
                await sleep(Math.random() * 2)
                counter = read + 1
              })
            )
          }
        })
      )
    )
    t.equal(section.overlaps, 0, 'no two holders at once')
    t.equal(counter, 4 * 8 * 5, 'read-modify-write under the lock loses no update')
    t.ok(
      fences.every((fence, i) => i === 0 || fence > (fences[i - 1] as number)),
      'fences strictly increase in the order of the holders'
    )
  })

  t.test('waitMs 0 fails fast with CONCURRENT_REQUEST and a Retry-After hint', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const b = managed(fixture)
    const held = await a.manager.acquire('wallet-1', { leaseMs: 3000 })
    const error = (await b.manager
      .acquire('wallet-1', { waitMs: 0 })
      .catch((err: unknown) => err)) as Error & { code: string; statusCode: number; retryAfter: number }
    t.equal(error.code, 'CONCURRENT_REQUEST')
    t.equal(error.statusCode, 409)
    t.ok(
      error.retryAfter >= 1 && error.retryAfter <= 3,
      `retryAfter ${error.retryAfter} s follows the holder's lease`
    )
    t.same(types(b.events), ['contended', 'timeout'], 'busy at the first attempt, and no wait')
    t.equal(await held.release(), true)
    t.same(types(a.events), ['acquired', 'released'])
    const again = await b.manager.acquire('wallet-1', { waitMs: 0 })
    t.ok(again.fence > held.fence)
    await again.release()
  })

  t.test('a release hands the lock to the waiters promptly, first come first served', async (t) => {
    const fixture = await setup(t)
    // re-checks far apart: only the hand-offs themselves can wake the waiters in time
    const clients = Array.from({ length: 4 }, () => managed(fixture, { pollMs: 60_000 }))
    const [first, ...waiters] = clients as [Managed, ...Managed[]]
    const holder = await first.manager.acquire('wallet-1', { leaseMs: 60_000 })
    const order: number[] = []
    const waits = []
    let queuedAt = 0
    for (const [i, { manager, events }] of waiters.entries()) {
      waits.push(
        manager.withLock(
          'wallet-1',
          async () => {
            order.push(i)
          },
          { waitMs: 30_000, leaseMs: 60_000 }
        )
      )
      // queued (busy at its first attempt, which queues it) before the next arrives
      await waitUntil(
        () => events.some((event) => event.type === 'contended'),
        `waiter ${i} to queue`,
        10_000,
        2
      )
      if (i === 0) queuedAt = Date.now()
    }
    await sleep(50)
    const releasedAt = Date.now()
    await holder.release()
    await Promise.all(waits)
    t.same(order, [0, 1, 2], 'FIFO')
    t.ok(
      Date.now() - releasedAt < 20_000,
      `three hand-offs took ${Date.now() - releasedAt} ms: handed over, not found by a re-check (60 s apart) or a lease end (60 s)`
    )
    const acquired = waiters[0]?.events.find((event) => event.type === 'acquired')
    t.ok(
      acquired !== undefined && acquired.type === 'acquired' && acquired.waitedMs >= releasedAt - queuedAt,
      'waitedMs counts the wait'
    )
  })

  t.test(
    'a holder that never releases loses the lock when its lease ends; the next waiter gets it',
    async (t) => {
      const fixture = await setup(t)
      const [a, b, c] = threeManaged(fixture)
      const stale = await a.manager.acquire('wallet-1', { leaseMs: 200 })
      const next = await b.manager.acquire('wallet-1', { waitMs: 10_000, leaseMs: 5000 })
      t.equal(stale.signal.aborted, true, 'the stale holder was told')
      t.match(stale.signal.reason, { code: 'CONCURRENT_REQUEST', statusCode: 409 })
      t.same(types(a.events), ['acquired', 'lost'])
      t.match(a.events[1], { reason: 'expired' })
      t.ok(next.fence > stale.fence, 'the new holder has a greater fence')

      t.equal(await stale.release(), false, 'the late release reports the lock was not held')
      t.equal(await stale.renew(), false, 'and the stale holder cannot renew')
      t.equal(await next.renew(), true, "the new holder's lock survived the stale release")
      await t.rejects(c.manager.acquire('wallet-1', { waitMs: 0 }), { code: 'CONCURRENT_REQUEST' })
      await next.release()
    }
  )

  t.test('withLock renews the lease while a long fn runs', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const b = managed(fixture)
    // two leases long; renewed every 500 ms, so a renewal may come 1 s late on a loaded machine
    const result = await a.manager.withLock(
      'wallet-1',
      async (lock) => {
        for (let i = 0; i < 6; i++) {
          await sleep(500)
          await t.rejects(
            b.manager.acquire('wallet-1', { waitMs: 0 }),
            { code: 'CONCURRENT_REQUEST' },
            'still held'
          )
        }
        t.equal(lock.signal.aborted, false, 'never lost')
        return 'done'
      },
      { leaseMs: 1500 }
    )
    t.equal(result, 'done')
    t.notOk(types(a.events).includes('lost'))
    const after = await b.manager.acquire('wallet-1', { waitMs: 0 })
    await after.release()
  })

  t.test('renew lengthens the lease; a lock taken from under its holder is reported lost', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const lock = await a.manager.acquire('wallet-1', { leaseMs: 300 })
    t.equal(await lock.renew(10_000), true)
    await sleep(600)
    t.equal(lock.signal.aborted, false, 'the longer lease holds past the first one')
    await a.store.release('wallet-1', lock.token) // as if the store had lost it
    t.equal(await lock.renew(), false)
    t.equal(lock.signal.aborted, true)
    t.match(a.events.at(-1), { type: 'lost', reason: 'taken' })
    t.equal(await lock.release(), false)
  })

  t.test('several resources: all or nothing, and opposite orders never deadlock or overlap', async (t) => {
    const fixture = await setup(t)
    const clients = Array.from({ length: 3 }, () => managed(fixture))
    const sections = { A: new Section(), B: new Section() }
    await Promise.all(
      clients.flatMap(({ manager }) =>
        Array.from({ length: 6 }, async (_, i) => {
          const [from, to] = i % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)
          for (let round = 0; round < 4; round++) {
            await manager.withLock([from, to], (lock) => {
              t.same(lock.resources, ['A', 'B'], 'sorted whatever the order asked for')
              return Promise.all([sections[from].run(), sections[to].run()])
            })
          }
        })
      )
    )
    t.equal(sections.A.overlaps + sections.B.overlaps, 0)
    t.equal(sections.A.runs, 3 * 6 * 4)

    const [a, b] = clients as [Managed, Managed]
    const holdB = await a.manager.acquire('B')
    await t.rejects(b.manager.acquire(['A', 'B', 'A'], { waitMs: 50 }), {
      code: 'CONCURRENT_REQUEST',
      message: /B is busy/
    })
    const onlyA = await b.manager.acquire('A', { waitMs: 0 })
    t.pass('A was given back when B could not be taken')
    await onlyA.release()
    await holdB.release()

    const both = await b.manager.acquire(['wallet-2', 'wallet-1'])
    t.same(Object.keys(both.fences).sort(), ['wallet-1', 'wallet-2'])
    t.equal(both.fence, both.fences['wallet-1'], 'fence is the first sorted resource')
    t.match(b.events.at(-1), { type: 'acquired', resources: ['wallet-1', 'wallet-2'], fences: both.fences })
    await both.release()
  })

  t.test(
    'several resources: a wait for a later one longer than the lease never loses the earlier ones',
    async (t) => {
      const fixture = await setup(t)
      const [a, b, c] = threeManaged(fixture)
      const holdB = await b.manager.acquire('B', { leaseMs: 10_000 })
      const waiting = a.manager.acquire(['A', 'B'], { leaseMs: 900, waitMs: 10_000 })
      await sleep(2000) // over two leases; renewed every 300 ms
      await t.rejects(
        c.manager.acquire('A', { waitMs: 0 }),
        { code: 'CONCURRENT_REQUEST' },
        'A is still held: renewed while waiting for B'
      )
      await holdB.release()
      const both = await waiting
      t.equal(both.signal.aborted, false, 'its lease runs from the last renewal, not from the first grant')
      t.notOk(types(a.events).includes('lost'))
      await t.rejects(c.manager.acquire('A', { waitMs: 0 }), { code: 'CONCURRENT_REQUEST' })
      t.equal(await both.release(), true, 'both still owned')
    }
  )

  t.test(
    'a waiter that gives up (timeout or abort) leaves the queue and is never handed the lock',
    async (t) => {
      const fixture = await setup(t)
      const [a, b, c] = threeManaged(fixture)
      const holder = await a.manager.acquire('wallet-1')
      await t.rejects(b.manager.acquire('wallet-1', { waitMs: 80 }), { code: 'CONCURRENT_REQUEST' })
      const controller = new AbortController()
      const aborted = c.manager.acquire('wallet-1', { signal: controller.signal })
      await sleep(50)
      controller.abort(new Error('caller gave up'))
      await t.rejects(aborted, /caller gave up/)
      await holder.release()
      const next = await b.manager.acquire('wallet-1', { waitMs: 0 })
      t.pass('nobody took the lock on behalf of the waiters that left')
      await t.rejects(
        c.manager.acquire('wallet-1', { signal: AbortSignal.abort(new Error('already')) }),
        /already/
      )
      const quick = new AbortController()
      const abortedAtOnce = c.manager.acquire('wallet-1', { signal: quick.signal })
      quick.abort(new Error('changed its mind'))
      await t.rejects(abortedAtOnce, /changed its mind/)
      await next.release()
    }
  )

  t.test('release is idempotent and reports once', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const lock = await a.manager.acquire('wallet-1')
    const [first, second] = await Promise.all([lock.release(), lock.release()])
    t.equal(first, true)
    t.equal(second, true)
    t.equal(await lock.renew(), false, 'a released lock cannot be renewed')
    t.same(types(a.events), ['acquired', 'released'])

    const racing = await a.manager.acquire('wallet-1')
    const renewing = racing.renew()
    await racing.release()
    t.equal(await renewing, false, 'a renewal that crosses a release does not revive the lock')
  })

  t.test('concurrent renewals of a lock taken from under its holder report the loss once', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const lock = await a.manager.acquire('wallet-1')
    await a.store.release('wallet-1', lock.token)
    t.same(await Promise.all([lock.renew(), lock.renew()]), [false, false])
    t.same(types(a.events), ['acquired', 'lost'])

    const other = await a.manager.acquire('wallet-2')
    await a.store.release('wallet-2', other.token)
    const renewing = other.renew()
    await other.release()
    t.equal(await renewing, false)
    t.same(
      types(a.events).slice(2),
      ['acquired', 'released'],
      'a loss found after the release is not reported'
    )
  })
}
