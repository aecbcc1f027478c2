import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { HandOffBox } from '../src/stores/hand-off-box.js'

t.test('a message reaches the waiter it names (token and record), and only that one', async (t) => {
  const box = new HandOffBox(1000)
  const a = box.wait('t1|p{a}', 1000, undefined)
  const b = box.wait('t1|p{b}', 50, undefined)
  box.deliver('t1|p{a}|1001:1064')
  t.same(await a, { fence: 1001, lastFence: 1064 })
  t.equal(
    await b,
    undefined,
    'the same token waiting for another resource is not woken: it re-checks after its time'
  )
})

t.test('a message that overtakes the reply queueing its waiter is kept for it', async (t) => {
  const box = new HandOffBox(1000)
  box.deliver('t1|p{a}|7:7')
  box.deliver('t2|p{a}|8:8') // the one before is still fresh: kept
  t.same(await box.wait('t1|p{a}', 1000, undefined), { fence: 7, lastFence: 7 })
  t.same(await box.wait('t2|p{a}', 1000, undefined), { fence: 8, lastFence: 8 })
  t.equal(await box.wait('t1|p{a}', 10, undefined), undefined, 'taken once')
})

t.test('early messages nobody claims are dropped after keepMs', async (t) => {
  const box = new HandOffBox(30)
  box.deliver('gone|p{a}|1:1') // its waiter gave up
  await sleep(60)
  box.deliver('t2|p{a}|2:2') // drops the stale one on the way in
  t.equal(await box.wait('gone|p{a}', 10, undefined), undefined)
  t.same(await box.wait('t2|p{a}', 10, undefined), { fence: 2, lastFence: 2 })
})

t.test('an abort ends the wait with its reason, before or during', async (t) => {
  const box = new HandOffBox(1000)
  await t.rejects(box.wait('t|p{a}', 1000, AbortSignal.abort(new Error('already'))), /already/)
  const controller = new AbortController()
  const waiting = box.wait('t|p{a}', 1000, controller.signal)
  controller.abort(new Error('gave up'))
  await t.rejects(waiting, /gave up/)
  box.deliver('t|p{a}|3:3') // nobody waits any more: kept as early, harmless
  t.pass('a late message after the abort changes nothing')
})
