import { setTimeout as sleep } from 'node:timers/promises'
import { waitUntil } from '@moolah/test-utils'
import t from 'tap'
import { LeaseRenewals } from '../src/lease-renewals.js'

/** A renew function whose answers the test gives, one call at a time. */
function heldRenewals() {
  const calls: Array<{ claim: string; answer: (keep: boolean) => void }> = []
  const renew = (claim: string) =>
    new Promise<boolean>((resolve) => {
      calls.push({ claim, answer: resolve })
    })
  return { calls, renew }
}

t.test('one renewal at a time per claim, however slow the store', async (t) => {
  const { calls, renew } = heldRenewals()
  const renewals = new LeaseRenewals<string>(30, renew) // a tick every 10 ms
  t.teardown(() => renewals.stop())
  renewals.add('a')
  await waitUntil(() => calls.length === 1, 'the first renewal')
  await sleep(100) // ten ticks while the answer is held
  t.equal(calls.length, 1, 'no second renewal while the first is in flight')
  calls[0]?.answer(true)
  await waitUntil(() => calls.length === 2, 'the next renewal once the first was answered')
  calls[1]?.answer(false)
  await sleep(100)
  t.equal(calls.length, 2, 'a claim whose renewal says false is dropped')
})

t.test('a claim deleted while its renewal is in flight is not renewed again', async (t) => {
  const { calls, renew } = heldRenewals()
  const renewals = new LeaseRenewals<string>(30, renew)
  t.teardown(() => renewals.stop())
  renewals.add('settled')
  await waitUntil(() => calls.length === 1, 'the first renewal')
  renewals.delete('settled') // its response was committed meanwhile
  calls[0]?.answer(true)
  renewals.add('other') // keeps the timer ticking
  await waitUntil(() => calls.some((call) => call.claim === 'other'), 'the other claim to be renewed')
  await sleep(50)
  t.same(calls.filter((call) => call.claim === 'settled').length, 1, 'the settled claim was not put back')
  for (const call of calls) call.answer(false)
})
