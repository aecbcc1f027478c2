import { once } from 'node:events'
import { setImmediate } from 'node:timers/promises'
import { redisPrefix, type Teardown } from '@moolah/test-utils'
import { Redis } from 'ioredis'
import t from 'tap'
import { RedisIdempotencyStore } from '../src/index.js'
import { storeContract } from './support/store-contract.js'

// Each instance has a client of its own on the shared server; each test a prefix of its own
storeContract(t, async (t) => {
  const { prefix, url } = redisPrefix(t)
  return () => {
    const redis = new Redis(url)
    t.teardown(() => redis.disconnect())
    return { redis, prefix }
  }
})

/** A store on a client of its own, connected: commands are written at once, not queued offline. */
async function connectedStore(t: Teardown): Promise<{ redis: Redis; store: RedisIdempotencyStore }> {
  const { prefix, url } = redisPrefix(t)
  const redis = new Redis(url)
  t.teardown(() => redis.disconnect())
  await once(redis, 'ready')
  return { redis, store: new RedisIdempotencyStore({ redis, prefix }) }
}

t.test('the commands of one event-loop turn leave in one socket write, each still answered', async (t) => {
  const { redis, store } = await connectedStore(t)
  const claims = Array.from({ length: 5 }, (_, i) =>
    store.claim(`k${i}`, { token: `token-${i}`, fingerprint: 'fp', leaseMs: 10_000 })
  )
  const ownPing = redis.ping() // the application's command of the same turn joins the write
  t.equal(redis.stream.writableCorked, 1, 'held until the turn ends')
  t.ok(redis.stream.writableLength > 0, 'nothing written yet')
  await setImmediate() // the store's uncork was scheduled first, so it has run by now
  t.equal(redis.stream.writableCorked, 0, 'written in the check phase of the same turn')
  t.equal(redis.stream.writableLength, 0, 'everything went out')
  t.same(
    await Promise.all(claims),
    Array.from({ length: 5 }, () => ({ state: 'claimed' }))
  )
  t.equal(await ownPing, 'PONG')
  t.equal(await store.commit('k0', 'token-0', 'done', 10_000), true, 'a later turn corks again')
  t.match(await store.claim('k0', { token: 'again', fingerprint: 'fp', leaseMs: 10_000 }), {
    state: 'completed',
    response: Buffer.from('done')
  })
})

t.test('a client that reconnected is corked on its new socket', async (t) => {
  const { redis, store } = await connectedStore(t)
  const before = redis.stream
  redis.disconnect(true)
  await once(redis, 'ready')
  t.not(redis.stream, before, 'a new socket')
  const claim = store.claim('k', { token: 't', fingerprint: 'fp', leaseMs: 10_000 })
  t.equal(redis.stream.writableCorked, 1, 'the new socket is the one corked')
  t.same(await claim, { state: 'claimed' })
})
