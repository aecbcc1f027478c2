import fastifyRedis from '@fastify/redis'
import { redisPrefix, waitUntil } from '@moolah/test-utils'
import Fastify from 'fastify'
import t from 'tap'
import { MemoryLockStore, walletLock, type WalletLockPluginOptions } from '../src/index.js'
import { lockApp } from './helpers/app.js'
import { redisClient } from './helpers/redis-clients.js'

t.test('rejects wrong options at registration with a clear message', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ store: {} }, /store must be an object with acquire, extend, release, close methods/],
    [{ store: null }, /store must be an object/],
    [{ redis: 'redis://localhost' }, /redis must be an object with defineCommand, duplicate methods/],
    [{ prefix: 'a{b}:' }, /prefix must be a string without \{ or \}/],
    [{ prefix: 42 }, /prefix must be a string/],
    [{ failMode: 'sometimes' }, /failMode must be 'closed' or 'open'/],
    [{ onEvent: 'log' }, /onEvent must be a function/],
    [{ timeoutMs: 0 }, /timeoutMs must be an integer >= 1, got 0/],
    [{ ttlMs: 1.5 }, /ttlMs must be an integer >= 1/],
    [{ waitMs: -1 }, /waitMs must be an integer >= 0/],
    [{ pollMs: '5' }, /pollMs must be an integer >= 1/],
    [{ turnMs: -1 }, /turnMs must be an integer >= 0/]
  ]
  for (const [options, message] of cases) {
    const app = Fastify()
    await t.rejects(async () => {
      await app.register(walletLock, options as WalletLockPluginOptions)
      await app.ready()
    }, message, JSON.stringify(options))
    await app.close()
  }
})

t.test('the decorator validates what it is asked for', async (t) => {
  const { app } = await lockApp(t)
  await t.rejects(app.walletLock.acquire([]), /non-empty string or a non-empty array/)
  await t.rejects(app.walletLock.acquire(''), /non-empty string/)
  await t.rejects(app.walletLock.acquire(['a', 7 as unknown as string]), /every resource must be a non-empty string, got 7/)
  await t.rejects(app.walletLock.acquire('a', { ttlMs: 0 }), /ttlMs must be an integer >= 1/)
  await t.rejects(app.walletLock.acquire('a', { waitMs: Infinity }), /waitMs must be an integer >= 0/)
})

t.test('store: memory by default, Redis on `redis`, or fastify.redis; the plugin closes only what it opened', async (t) => {
  const { prefix, url } = redisPrefix(t)
  const redis = redisClient(t, url)

  const memory = await lockApp(t)
  const lock = await memory.app.walletLock.acquire('w')
  t.equal(await redis.exists('wallet-lock:{w}'), 0, 'the memory store keeps nothing in Redis')
  await lock.release()

  const given = await lockApp(t, { redis, prefix: `${prefix}given:` })
  const held = await given.app.walletLock.acquire('w')
  t.match(await redis.get(`${prefix}given:{w}`), new RegExp(`:${held.token}$`))
  const channels = () => redis.pubsub('CHANNELS', `${prefix}given:*`)
  t.same(await channels(), [], 'nothing subscribed while nobody waits in Redis')
  const elsewhere = await lockApp(t, { redis, prefix: `${prefix}given:` }) // another instance
  const waiting = elsewhere.app.walletLock.acquire('w', { waitMs: 1000 }) // queues in Redis: subscribes for hand-offs
  await waitUntil(async () => (await channels()).length > 0, 'the waiter to subscribe')
  t.match(await channels(), [new RegExp(`^${prefix}given:hand-off:[0-9a-f-]{36}$`)], 'one hand-off channel per store')
  await held.release()
  await (await waiting).release()
  await elsewhere.app.close()
  await waitUntil(async () => (await channels()).length === 0, 'its subscriber to close with the app')
  t.equal(await redis.ping(), 'PONG', "the caller's client stays open")

  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyRedis, { url, closeClient: true })
  await app.register(walletLock, { prefix: `${prefix}decorated:` })
  const viaDecorator = await app.walletLock.acquire('w')
  t.match(await redis.get(`${prefix}decorated:{w}`), new RegExp(`:${viaDecorator.token}$`), 'uses fastify.redis')
  await viaDecorator.release()

  const store = new MemoryLockStore()
  let closed = false
  store.close = async () => { closed = true }
  const custom = await lockApp(t, { store })
  await (await custom.app.walletLock.acquire('w')).release()
  await custom.app.close()
  t.equal(closed, false, 'a store passed in belongs to the caller')
})

t.test('an onEvent that throws is logged, never thrown', async (t) => {
  const logged: string[] = []
  const app = Fastify({ logger: { level: 'error', stream: { write: (line: string) => { logged.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(walletLock, { onEvent: () => { throw new Error('listener bug') } })
  const lock = await app.walletLock.acquire('w')
  t.equal(await lock.release(), true)
  t.match(logged.join(''), /onEvent threw/)
})
