import t from 'tap'
import { redisClient, redisUrl, waitUntil } from '../src/index.js'

t.test('a client disconnected at teardown, whose connection errors are swallowed', async (t) => {
  let client: ReturnType<typeof redisClient> | undefined
  await t.test('a test using it', async (t) => {
    client = redisClient(t, redisUrl(), { maxRetriesPerRequest: 1 })
    t.equal(await client.ping(), 'PONG')
    t.doesNotThrow(
      () => client?.emit('error', new Error('connection reset')),
      'an error event has a listener'
    )
  })
  await waitUntil(() => client?.status === 'end', 'the teardown to disconnect it')
})
