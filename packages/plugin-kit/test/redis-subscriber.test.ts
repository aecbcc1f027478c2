import { redisPrefix, startRedis, startRedisCluster, waitUntil } from '@moolah/test-utils'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { RedisSubscriber, type RedisClient } from '../src/index.js'

const CONNECTION_NAME = 'plugin-kit-test-subscriber'

/** A subscriber that records what it is told; closed at teardown. */
function subscribe(t: Test, redis: RedisClient, channel: string) {
  const seen = { messages: [] as string[], subscriptions: 0, errors: [] as unknown[] }
  const subscriber = new RedisSubscriber({
    redis,
    channel,
    connectionName: CONNECTION_NAME,
    listener: {
      onMessage: (message) => {
        seen.messages.push(message)
      },
      onSubscribed: () => {
        seen.subscriptions++
      },
      onError: (error) => {
        seen.errors.push(error)
      }
    }
  })
  t.teardown(() => subscriber.close())
  return { subscriber, seen }
}

function client(t: Test, url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 })
  redis.on('error', () => {})
  t.teardown(() => redis.disconnect())
  return redis
}

t.test("subscribes on its own connection and delivers the channel's messages", async (t) => {
  const { prefix, url } = redisPrefix(t)
  const redis = client(t, url)
  const { subscriber, seen } = subscribe(t, redis, `${prefix}events`)
  t.equal(await subscriber.subscribed(5000), true)
  t.equal(subscriber.isSubscribed, true)
  t.equal(await subscriber.subscribed(0), true, 'at once while subscribed')
  t.equal(seen.subscriptions, 1)
  await redis.publish(`${prefix}events`, 'one')
  await redis.publish(`${prefix}other`, 'not ours')
  await redis.publish(`${prefix}events`, 'two')
  await waitUntil(() => seen.messages.length === 2, 'two messages')
  t.same(seen.messages, ['one', 'two'])
  t.equal(redis.status, 'ready', "the application's client is not in subscriber mode")
  await subscriber.close()
  await waitUntil(() => !subscriber.isSubscribed, 'the connection to close')
  t.equal(await subscriber.subscribed(20), false, 'closed: never subscribed again')
})

t.test('after its connection is killed it reconnects, subscribes again and says so', async (t) => {
  const server = await startRedis(t)
  const redis = client(t, server.url)
  const { subscriber, seen } = subscribe(t, redis, 'events')
  t.equal(await subscriber.subscribed(5000), true)
  await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  await waitUntil(() => seen.subscriptions === 2, 'the second subscription')
  await redis.publish('events', 'after')
  await waitUntil(() => seen.messages.includes('after'), 'a message after the reconnect')
})

t.test(
  'Redis down at the start: errors are reported, it keeps trying, and subscribes once Redis is back',
  async (t) => {
    const server = await startRedis(t)
    const redis = client(t, server.url)
    await server.stop()
    const { subscriber, seen } = subscribe(t, redis, 'events')
    t.equal(await subscriber.subscribed(100), false)
    await waitUntil(() => seen.errors.length >= 2, 'failed attempts to be reported')
    await server.restart()
    t.equal(await subscriber.subscribed(10_000), true)
    t.equal(seen.subscriptions, 1)
  }
)

t.test('a refused SUBSCRIBE is reported and tried again on a new connection', async (t) => {
  const server = await startRedis(t)
  const admin = client(t, server.url)
  await admin.call('ACL', 'SETUSER', 'limited', 'on', '>secret', '~*', 'resetchannels', '&other', '+@all')
  const url = new URL(server.url)
  url.username = 'limited'
  url.password = 'secret'
  const { subscriber, seen } = subscribe(t, client(t, url.toString()), 'events')
  await waitUntil(() => seen.errors.some((error) => /NOPERM/.test(String(error))), 'the refusal')
  t.equal(subscriber.isSubscribed, false)
  await admin.call('ACL', 'SETUSER', 'limited', 'allchannels')
  t.equal(await subscriber.subscribed(10_000), true)
})

t.test(
  'on a Cluster: a master of the cluster, found once the cluster is ready; killed, it subscribes again',
  async (t) => {
    const cluster = await startRedisCluster(t, { masters: 3 })
    const redis = cluster.createClient({ redisOptions: { maxRetriesPerRequest: 1 } })
    const { subscriber, seen } = subscribe(t, redis, 'events')
    t.equal(await subscriber.subscribed(10_000), true)
    await redis.publish('events', 'through the cluster')
    await waitUntil(() => seen.messages.includes('through the cluster'), 'a message published on any node')
    await Promise.all(redis.nodes('master').map((node) => node.call('CLIENT', 'KILL', 'TYPE', 'pubsub')))
    await waitUntil(() => seen.subscriptions === 2, 'the second subscription')
  }
)
