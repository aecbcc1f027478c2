import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { WalletLockEvent } from '../../src/events.js'
import type { WalletLockManager } from '../../src/lock-manager.js'
import type { LockStore } from '../../src/store.js'
import { recordingManager } from './manager.js'

/** What one test needs: managers that each talk to the store over their own connection. */
export interface LockFixture {
  /** A store on a new connection (memory: the one shared store). */
  store(): LockStore
}

export interface Managed {
  manager: WalletLockManager
  store: LockStore
  events: WalletLockEvent[]
}

export function managed(fixture: LockFixture): Managed {
  const store = fixture.store()
  return { store, ...recordingManager(store) }
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
 * The behaviour every store must show, run against memory, a single Redis and a Redis Cluster.
 * `setup` gives a fixture whose stores share one lock space (one prefix).
 */
export function lockSuite(t: Test, setup: (t: Test) => Promise<LockFixture>): void {
  t.test('mutual exclusion: concurrent withLock callers on several connections never overlap', async (t) => {
    const fixture = await setup(t)
    const clients = Array.from({ length: 4 }, () => managed(fixture))
    const section = new Section()
    let counter = 0
    const fences: number[] = []
    await Promise.all(clients.flatMap(({ manager }) => Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 5; i++) {
        await manager.withLock('wallet-1', (lock) => section.run(async () => {
          fences.push(lock.fence)
          const read = counter
          await sleep(Math.random() * 2)
          counter = read + 1
        }))
      }
    })))
    t.equal(section.overlaps, 0, 'no two holders at once')
    t.equal(counter, 4 * 8 * 5, 'read-modify-write under the lock loses no update')
    t.ok(fences.every((fence, i) => i === 0 || fence > (fences[i - 1] as number)), 'fences strictly increase in the order of the holders')
  })

  t.test('waitMs 0 fails fast with CONCURRENT_REQUEST and a Retry-After hint', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const b = managed(fixture)
    const held = await a.manager.acquire('wallet-1', { ttlMs: 3000 })
    const started = Date.now()
    const error = await b.manager.acquire('wallet-1', { waitMs: 0 }).catch((err: unknown) => err) as Error & { code: string, statusCode: number, retryAfter: number }
    t.ok(Date.now() - started < 200, 'answers at once')
    t.equal(error.code, 'CONCURRENT_REQUEST')
    t.equal(error.statusCode, 409)
    t.ok(error.retryAfter >= 1 && error.retryAfter <= 3, `retryAfter ${error.retryAfter} s follows the holder's lease`)
    t.same(types(b.events), ['contended', 'timeout'])
    t.equal(await held.release(), true)
    t.same(types(a.events), ['acquired', 'released'])
    const again = await b.manager.acquire('wallet-1', { waitMs: 0 })
    t.ok(again.fence > held.fence)
    await again.release()
  })

  t.test('a release hands the lock to the waiters promptly, first come first served', async (t) => {
    const fixture = await setup(t)
    const clients = Array.from({ length: 4 }, () => managed(fixture))
    const [first, ...waiters] = clients as [Managed, ...Managed[]]
    const holder = await first.manager.acquire('wallet-1')
    const order: number[] = []
    const waits = []
    for (const [i, { manager }] of waiters.entries()) {
      waits.push(manager.withLock('wallet-1', async () => { order.push(i) }))
      await sleep(30) // each waiter is queued before the next arrives
    }
    const releasedAt = Date.now()
    await holder.release()
    await Promise.all(waits)
    t.same(order, [0, 1, 2], 'FIFO')
    t.ok(Date.now() - releasedAt < 100, `three hand-offs took ${Date.now() - releasedAt} ms, not polling intervals`)
    const acquired = waiters[0]?.events.find((event) => event.type === 'acquired')
    t.ok(acquired !== undefined && acquired.type === 'acquired' && acquired.waitedMs >= 60, 'waitedMs counts the wait')
  })

  t.test('a holder that never releases loses the lock when its lease ends; the next waiter gets it', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const b = managed(fixture)
    const c = managed(fixture)
    const stale = await a.manager.acquire('wallet-1', { ttlMs: 200 })
    const started = Date.now()
    const next = await b.manager.acquire('wallet-1', { waitMs: 2000, ttlMs: 5000 })
    t.ok(Date.now() - started < 500, `the waiter took over ${Date.now() - started} ms after, soon after the lease ended`)
    t.equal(stale.signal.aborted, true, 'the stale holder was told')
    t.match(stale.signal.reason, { code: 'CONCURRENT_REQUEST', statusCode: 409 })
    t.same(types(a.events), ['acquired', 'lost'])
    t.match(a.events[1], { reason: 'expired' })
    t.ok(next.fence > stale.fence, 'the new holder has a greater fence')

    t.equal(await stale.release(), false, 'the late release reports the lock was not held')
    t.equal(await stale.extend(), false, 'and the stale holder cannot extend')
    t.equal(await next.extend(), true, "the new holder's lock survived the stale release")
    await t.rejects(c.manager.acquire('wallet-1', { waitMs: 0 }), { code: 'CONCURRENT_REQUEST' })
    await next.release()
  })

  t.test('withLock renews the lease while a long fn runs', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const b = managed(fixture)
    const result = await a.manager.withLock('wallet-1', async (lock) => {
      for (let i = 0; i < 6; i++) {
        await sleep(100)
        await t.rejects(b.manager.acquire('wallet-1', { waitMs: 0 }), { code: 'CONCURRENT_REQUEST' }, 'still held')
      }
      t.equal(lock.signal.aborted, false, 'never lost')
      return 'done'
    }, { ttlMs: 150 })
    t.equal(result, 'done')
    t.notOk(types(a.events).includes('lost'))
    const after = await b.manager.acquire('wallet-1', { waitMs: 0 })
    await after.release()
  })

  t.test('extend lengthens the lease; a lock taken from under its holder is reported lost', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const lock = await a.manager.acquire('wallet-1', { ttlMs: 150 })
    t.equal(await lock.extend(1000), true)
    await sleep(250)
    t.equal(lock.signal.aborted, false, 'the longer lease holds')
    await a.store.release('wallet-1', lock.token) // as if the store had lost it
    t.equal(await lock.extend(), false)
    t.equal(lock.signal.aborted, true)
    t.match(a.events.at(-1), { type: 'lost', reason: 'taken' })
    t.equal(await lock.release(), false)
  })

  t.test('several resources: all or nothing, and opposite orders never deadlock or overlap', async (t) => {
    const fixture = await setup(t)
    const clients = Array.from({ length: 3 }, () => managed(fixture))
    const sections = { A: new Section(), B: new Section() }
    await Promise.all(clients.flatMap(({ manager }) => Array.from({ length: 6 }, async (_, i) => {
      const [from, to] = i % 2 === 0 ? ['A', 'B'] as const : ['B', 'A'] as const
      for (let round = 0; round < 4; round++) {
        await manager.withLock([from, to], (lock) => {
          t.same(lock.resources, ['A', 'B'], 'sorted whatever the order asked for')
          return Promise.all([sections[from].run(), sections[to].run()])
        })
      }
    })))
    t.equal(sections.A.overlaps + sections.B.overlaps, 0)
    t.equal(sections.A.runs, 3 * 6 * 4)

    const [a, b] = clients as [Managed, Managed]
    const holdB = await a.manager.acquire('B')
    await t.rejects(b.manager.acquire(['A', 'B', 'A'], { waitMs: 50 }), { code: 'CONCURRENT_REQUEST', message: /B is busy/ })
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

  t.test('several resources: a wait for a later one longer than the lease never loses the earlier ones', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const b = managed(fixture)
    const c = managed(fixture)
    const holdB = await b.manager.acquire('B', { ttlMs: 5000 })
    const waiting = a.manager.acquire(['A', 'B'], { ttlMs: 200, waitMs: 5000 })
    await sleep(700) // three and a half leases
    await t.rejects(c.manager.acquire('A', { waitMs: 0 }), { code: 'CONCURRENT_REQUEST' }, 'A is still held: renewed while waiting for B')
    await holdB.release()
    const both = await waiting
    await sleep(20)
    t.equal(both.signal.aborted, false, 'its lease runs from the last renewal, not from the first grant')
    t.notOk(types(a.events).includes('lost'))
    await t.rejects(c.manager.acquire('A', { waitMs: 0 }), { code: 'CONCURRENT_REQUEST' })
    t.equal(await both.release(), true, 'both still owned')
  })

  t.test('a waiter that gives up (timeout or abort) leaves the queue and is never handed the lock', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const b = managed(fixture)
    const c = managed(fixture)
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
    await t.rejects(c.manager.acquire('wallet-1', { signal: AbortSignal.abort(new Error('already')) }), /already/)
    const quick = new AbortController()
    const abortedAtOnce = c.manager.acquire('wallet-1', { signal: quick.signal })
    quick.abort(new Error('changed its mind'))
    await t.rejects(abortedAtOnce, /changed its mind/)
    await next.release()
  })

  t.test('release is idempotent and reports once', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const lock = await a.manager.acquire('wallet-1')
    const [first, second] = await Promise.all([lock.release(), lock.release()])
    t.equal(first, true)
    t.equal(second, true)
    t.equal(await lock.extend(), false, 'a released lock cannot be extended')
    t.same(types(a.events), ['acquired', 'released'])

    const racing = await a.manager.acquire('wallet-1')
    const extending = racing.extend()
    await racing.release()
    t.equal(await extending, false, 'an extension that crosses a release does not revive the lock')
  })

  t.test('concurrent extends of a lock taken from under its holder report the loss once', async (t) => {
    const fixture = await setup(t)
    const a = managed(fixture)
    const lock = await a.manager.acquire('wallet-1')
    await a.store.release('wallet-1', lock.token)
    t.same(await Promise.all([lock.extend(), lock.extend()]), [false, false])
    t.same(types(a.events), ['acquired', 'lost'])

    const other = await a.manager.acquire('wallet-2')
    await a.store.release('wallet-2', other.token)
    const extending = other.extend()
    await other.release()
    t.equal(await extending, false)
    t.same(types(a.events).slice(2), ['acquired', 'released'], 'a loss found after the release is not reported')
  })
}
