import { Redis } from 'ioredis'
import t from 'tap'
import { startRedis } from '../src/index.js'

function client(url: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    commandTimeout: 300,
    retryStrategy: () => 50
  })
  redis.on('error', () => {})
  return redis
}

async function ready(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve))
}

t.test('a throwaway server on a free port that keeps nothing on disk', async (t) => {
  const server = await startRedis(t)
  t.equal(server.url, `redis://127.0.0.1:${server.port}`)
  const redis = client(server.url)
  t.teardown(() => redis.disconnect())
  await ready(redis)
  t.equal(await redis.config('GET', 'save').then((r) => (r as string[])[1]), '')
  t.equal(await redis.config('GET', 'appendonly').then((r) => (r as string[])[1]), 'no')

  await t.test('flushAll deletes every key', async (t) => {
    await redis.set('a', '1')
    await server.flushAll()
    t.equal(await redis.dbsize(), 0)
  })

  await t.test('pause makes commands time out; resume brings answers back', async (t) => {
    server.pause()
    await t.rejects(redis.ping(), /timed out/i)
    server.resume()
    t.equal(await redis.ping(), 'PONG')
  })

  await t.test('stop kills it; restart brings an empty server back on the same port', async (t) => {
    await redis.set('gone-after-restart', '1')
    await server.stop()
    await t.rejects(redis.ping())
    await server.stop() // idempotent
    t.throws(() => server.pause(), /is stopped/)
    await server.restart()
    await ready(redis)
    t.equal(await redis.get('gone-after-restart'), null)
    t.equal(await redis.ping(), 'PONG')
  })
})

t.test('passes extra arguments to redis-server', async (t) => {
  const server = await startRedis(t, { args: ['--maxmemory', '2mb'] })
  const redis = client(server.url)
  t.teardown(() => redis.disconnect())
  await ready(redis)
  t.same(await redis.config('GET', 'maxmemory'), ['maxmemory', String(2 * 1024 * 1024)])
})

t.test('fails clearly when redis-server is not on PATH', async (t) => {
  const path = process.env.PATH
  process.env.PATH = '/nonexistent'
  t.teardown(() => {
    process.env.PATH = path
  })
  await t.rejects(startRedis(t), /`redis-server` is not on PATH/)
})

t.test('fails clearly when redis-server cannot start', async (t) => {
  await t.rejects(
    startRedis(t, { args: ['--no-such-option', 'x'] }),
    /exited with code 1 before it was ready/
  )
})
