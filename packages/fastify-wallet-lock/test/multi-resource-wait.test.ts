import { setTimeout as sleep } from 'node:timers/promises'
import { waitUntil } from '@moolah/test-utils'
import t from 'tap'
import type { WalletLockEvent, WalletLockStore } from '../src/index.js'
import { alteredStore } from './support/altered-store.js'
import { recordingManager } from './support/manager.js'

// What renews the resources a multi-resource acquisition holds while it waits for the next one,
// when the store misbehaves. The behaviour on every real store is in helpers/lock-suite.ts.

const types = (events: WalletLockEvent[]): string[] => events.map((event) => event.type)

/** A holder of B and a second manager on the same store (two processes, one lock space). */
async function bHeldElsewhere(store: WalletLockStore) {
  const holder = recordingManager(store).manager
  return { holdB: await holder.acquire('B'), holder, ...recordingManager(store) }
}

t.test(
  'a held resource found taken while waiting: the acquisition fails with CONCURRENT_REQUEST and gives everything back',
  async (t) => {
    const { holdB, holder, manager, events } = await bHeldElsewhere(
      alteredStore(() => ({ renew: async () => false }))
    )
    const error = await manager
      .acquire(['A', 'B'], { leaseMs: 60, waitMs: 2000 })
      .catch((err: unknown) => err)
    t.match(error, {
      code: 'CONCURRENT_REQUEST',
      statusCode: 409,
      retryAfter: 1,
      message: /lock on A was lost/
    })
    t.same(types(events), ['contended', 'lost'])
    await (await holder.acquire('A', { waitMs: 0 })).release()
    t.pass('A was given back')
    await holdB.release()
  }
)

t.test(
  'a held resource found taken while the last one is on its way: the acquisition fails all the same',
  async (t) => {
    const store = alteredStore((inner) => ({
      renew: async () => false,
      acquire: async (request) => {
        const result = await inner.acquire(request)
        if (request.resource === 'B') await sleep(100) // the renewal of A runs meanwhile
        return result
      }
    }))
    const { manager, events } = recordingManager(store)
    await t.rejects(manager.acquire(['A', 'B'], { leaseMs: 60 }), {
      code: 'CONCURRENT_REQUEST',
      message: /lock on A was lost/
    })
    t.same(types(events), ['lost'])
    await (await recordingManager(store).manager.acquire(['A', 'B'], { waitMs: 0 })).release()
    t.pass('A and B were given back')
  }
)

t.test(
  'a renewal that cannot reach the store is reported and tried again at the next tick; the wait goes on',
  async (t) => {
    let failures = 1
    const store = alteredStore((inner) => ({
      renew: async (resource, token, leaseMs) => {
        if (failures-- > 0) throw new Error('store down')
        return await inner.renew(resource, token, leaseMs)
      }
    }))
    const { holdB, holder, manager, events } = await bHeldElsewhere(store)
    const waiting = manager.acquire(['A', 'B'], { leaseMs: 3000, waitMs: 10_000 })
    await sleep(2300) // renewals at 1 s (fails) and 2 s (renews A before its lease ends at 3 s)
    await t.rejects(
      holder.acquire('A', { waitMs: 0 }),
      { code: 'CONCURRENT_REQUEST' },
      'A survived the failed renewal'
    )
    await holdB.release()
    const both = await waiting
    t.match(events, [
      { type: 'contended' },
      { type: 'store-error', operation: 'renew', resources: ['A', 'B'], degraded: false },
      { type: 'acquired' }
    ])
    t.equal(await both.release(), true)
  }
)

t.test('a renewal still on its way when the acquisition completes changes nothing', async (t) => {
  let sent = false
  let letAnswer = (): void => {}
  const answer = new Promise<void>((resolve) => {
    letAnswer = resolve
  })
  let answered = false
  const store = alteredStore(() => ({
    renew: async () => {
      sent = true
      await answer
      answered = true
      return false // would report a loss, had the acquisition still been waiting
    }
  }))
  const { holdB, manager, events } = await bHeldElsewhere(store)
  const waiting = manager.acquire(['A', 'B'], { leaseMs: 3000, waitMs: 10_000 })
  await waitUntil(() => sent, 'the renewal of A to go out')
  await holdB.release()
  const both = await waiting
  letAnswer()
  await waitUntil(() => answered, 'the renewal to answer')
  await sleep(10)
  t.same(types(events), ['contended', 'acquired'], 'no loss reported')
  t.equal(both.signal.aborted, false)
  t.equal(await both.release(), true)
})

t.test('aborting the caller signal stops a multi-resource wait and takes nothing', async (t) => {
  const { holdB, holder, manager } = await bHeldElsewhere(alteredStore(() => ({})))
  const controller = new AbortController()
  const waiting = manager.acquire(['A', 'B'], { signal: controller.signal })
  await sleep(50)
  controller.abort(new Error('caller gave up'))
  await t.rejects(waiting, /caller gave up/)
  await t.rejects(manager.acquire(['A', 'B'], { signal: AbortSignal.abort(new Error('already')) }), /already/)
  await (await holder.acquire('A', { waitMs: 0 })).release()
  t.pass('A was given back')
  await holdB.release()
})
