import { Redis } from 'ioredis'
import t from 'tap'
import { redisPrefix } from '../src/index.js'

t.test('keys under the prefix are deleted at teardown, other keys are not', async (t) => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  t.teardown(() => redis.quit())
  const outsider = `outsider:${process.pid}:${Date.now()}`
  await redis.set(outsider, 'stays', 'EX', 60)
  t.teardown(() => redis.del(outsider))

  let prefix = ''
  await t.test('a test that writes keys', async (t) => {
    const given = redisPrefix(t)
    prefix = given.prefix
    t.match(prefix, /^test:redis_prefix_test:\d+:[0-9a-f]{8}:$/)
    for (let i = 0; i < 1500; i++) await redis.set(`${prefix}${i}`, 'x') // more than one SCAN page
    t.equal((await redis.keys(`${prefix}*`)).length, 1500)
  })

  t.same(await redis.keys(`${prefix}*`), [], 'teardown removed every key under the prefix')
  t.equal(await redis.get(outsider), 'stays')
})

t.test('two calls never share a prefix', async (t) => {
  t.not(redisPrefix(t).prefix, redisPrefix(t).prefix)
})
