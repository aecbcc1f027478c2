import t from 'tap'
import { waitUntil } from '../src/index.js'

t.test('resolves as soon as the check passes', async (t) => {
  let calls = 0
  await waitUntil(async () => ++calls === 3, 'the third call', 1000, 1)
  t.equal(calls, 3)
})

t.test('takes a synchronous check too', async (t) => {
  let calls = 0
  await waitUntil(() => ++calls === 2, 'the second call', 1000, 1)
  t.equal(calls, 2)
})

t.test('times out naming what it waited for', async (t) => {
  await t.rejects(
    waitUntil(async () => false, 'godot', 50, 5),
    /timed out after 50 ms waiting for godot$/
  )
})

t.test('the last error thrown by the check is in the message', async (t) => {
  await t.rejects(
    waitUntil(
      async () => {
        throw new Error('connection refused')
      },
      'redis',
      50,
      5
    ),
    /waiting for redis: connection refused/
  )
})
