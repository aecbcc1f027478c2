import { redisPrefix } from '@moolah/test-utils'
import t from 'tap'
import { lockSuite } from './helpers/lock-suite.js'
import { redisClient, redisStore } from './helpers/redis-clients.js'

lockSuite(t, async (t) => {
  const { prefix, url } = redisPrefix(t)
  return { store: () => redisStore(t, redisClient(t, url), { prefix }) }
})

t.test('defaults: prefix wallet-lock:, the resource as the hash tag', async (t) => {
  const { url } = redisPrefix(t)
  const redis = redisClient(t, url)
  const resource = `defaults-${process.pid}-${Date.now()}`
  const keys = ['owner', 'fence', 'queue', 'waiters'].map((name) => `wallet-lock:{${resource}}:${name}`)
  t.teardown(() => redis.del(...keys))
  const store = redisStore(t, redis, {})
  const lock = await store.acquire({ resource, token: 'token-1', ttlMs: 1000, waitMs: 0 })
  t.match(lock, { acquired: true })
  t.equal(await redis.get(keys[0] as string), 'token-1')
  t.ok(Number(await redis.get(keys[1] as string)) >= (Date.now() - 60_000) * 1000, 'the fence counter, floored by the clock in microseconds')
  t.equal(await store.release(resource, 'token-1'), true)
})
