import { once } from 'node:events'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { redisPrefix } from '@moolah/test-utils'
import { Redis } from 'ioredis'
import t from 'tap'
import { RedisStore } from '../src/index.js'

t.test('the commands of one event-loop turn leave in one socket write, each still answered', async (t) => {
  const { prefix, url } = redisPrefix(t)
  const client = new Redis(url)
  t.teardown(() => client.disconnect())
  await once(client, 'ready')
  const store = new RedisStore({ client })
  const claims = Array.from({ length: 5 }, (_, i) => store.claim(`${prefix}k${i}`, { token: `token-${i}`, fingerprint: 'fp', leaseMs: 10_000 }))
  const ownPing = client.ping() // the application's command of the same turn joins the batch
  t.equal(client.stream.writableCorked, 1, 'held until the turn ends')
  t.equal(client.stream.writableLength > 0, true, 'nothing written yet')
  await nextTurn()
  t.equal(client.stream.writableCorked, 0, 'written in the check phase of the same turn')
  t.same(await Promise.all(claims), Array.from({ length: 5 }, () => ({ state: 'claimed' })))
  t.equal(await ownPing, 'PONG')
  t.equal(await store.commit(`${prefix}k0`, 'token-0', 'done', 10_000), true, 'a later turn corks again')
  t.match(await store.claim(`${prefix}k0`, { token: 'again', fingerprint: 'fp', leaseMs: 10_000 }), { state: 'completed', response: Buffer.from('done') })
})
