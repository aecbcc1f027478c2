import fastifyRedis from '@fastify/redis'
import { redisClient, redisPrefix, waitUntil } from '@moolah/test-utils'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import t from 'tap'
import { MemoryWalletLockStore, walletLock, type WalletLockOptions } from '../src/index.js'
import { lockApp } from './support/app.js'

t.test('rejects wrong options at registration with a clear message that names the option', async (t) => {
  const store = new MemoryWalletLockStore()
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [
      { store: {} },
      /options\.store must implement WalletLockStore; missing acquire, handedOver, renew, release/
    ],
    [{ store, prefix: 'mine:' }, /options\.prefix would be ignored next to options\.store/],
    [
      { store, redis: new Redis({ lazyConnect: true }) },
      /options\.redis would be ignored next to options\.store/
    ],
    [{ redis: 'redis://localhost' }, /options\.redis must be an ioredis Redis or Cluster client/],
    [{ prefix: 'a{b}:' }, /options\.prefix must be a string without \{ or \}/],
    [{ prefix: 42 }, /options\.prefix must be a string/],
    [{ failMode: 'sometimes' }, /options\.failMode must be 'closed' or 'open', got "sometimes"/],
    [{ onEvent: 'log' }, /options\.onEvent must be a function/],
    [{ timeoutMs: 0 }, /options\.timeoutMs must be a positive integer, got 0/],
    [{ leaseMs: 1.5 }, /options\.leaseMs must be a positive integer/],
    [{ waitMs: -1 }, /options\.waitMs must be an integer ≥ 0/],
    [{ pollMs: '5' }, /options\.pollMs must be a positive integer, got "5"/],
    [{ turnMs: -1 }, /options\.turnMs must be an integer ≥ 0/]
  ]
  for (const [options, message] of cases) {
    const app = Fastify()
    const error = await (async () => {
      await app.register(walletLock, options as WalletLockOptions)
      await app.ready()
    })().catch((err: unknown) => err)
    t.match(
      error,
      { name: 'TypeError', message: /^@moolah\/fastify-wallet-lock: / },
      JSON.stringify(Object.keys(options))
    )
    t.match(error, { message }, String(message))
    await app.close()
  }
})

t.test('the decorator validates what it is asked for', async (t) => {
  const { app } = await lockApp(t)
  await t.rejects(
    app.walletLock.acquire([]),
    /^@moolah\/fastify-wallet-lock: resources must be a non-empty string or a non-empty array/
  )
  await t.rejects(app.walletLock.acquire(''), /non-empty string/)
  await t.rejects(
    app.walletLock.acquire(['a', 7 as unknown as string]),
    /every resource must be a non-empty string, got 7/
  )
  await t.rejects(
    app.walletLock.acquire('a', { leaseMs: 0 }),
    /options\.leaseMs must be a positive integer, got 0/
  )
  await t.rejects(app.walletLock.acquire('a', { waitMs: Infinity }), /options\.waitMs must be an integer ≥ 0/)
})

t.test(
  'store: memory by default, Redis on `redis`, or fastify.redis; the plugin closes only what it opened',
  async (t) => {
    const { prefix, url } = redisPrefix(t)
    const redis = redisClient(t, url)

    const memory = await lockApp(t)
    const lock = await memory.app.walletLock.acquire('w')
    t.equal(await redis.exists('wallet-lock:{w}'), 0, 'the memory store keeps nothing in Redis')
    await lock.release()

    const given = await lockApp(t, { redis, prefix: `${prefix}given:` })
    const held = await given.app.walletLock.acquire('w')
    t.match(await redis.get(`${prefix}given:{w}`), new RegExp(`:${held.token}$`))
    const channels = async () => ((await redis.pubsub('CHANNELS', `${prefix}given:*`)) as string[]).sort()
    await waitUntil(async () => (await channels()).length === 1, 'the hand-off channel to be subscribed')
    const [own] = await channels()
    t.match(own, new RegExp(`^${prefix}given:hand-off:[0-9a-f-]{36}$`), 'one hand-off channel per store')
    const elsewhere = await lockApp(t, { redis, prefix: `${prefix}given:` }) // another instance
    const waiting = elsewhere.app.walletLock.acquire('w', { waitMs: 10_000 }) // queues in Redis: handed over on its channel
    await waitUntil(async () => (await channels()).length === 2, 'the other instance to subscribe')
    await held.release()
    await (await waiting).release()
    await elsewhere.app.close()
    await waitUntil(async () => (await channels()).length === 1, 'its subscriber to close with the app')
    t.same(await channels(), [own], 'the first instance keeps its own')
    t.equal(await redis.ping(), 'PONG', "the caller's client stays open")

    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(fastifyRedis, { url, closeClient: true })
    await app.register(walletLock, { prefix: `${prefix}decorated:` })
    const viaDecorator = await app.walletLock.acquire('w')
    t.match(
      await redis.get(`${prefix}decorated:{w}`),
      new RegExp(`:${viaDecorator.token}$`),
      'uses fastify.redis'
    )
    await viaDecorator.release()

    const store = new MemoryWalletLockStore()
    let closed = false
    store.close = async () => {
      closed = true
    }
    const closing = await lockApp(t)
    await closing.app.close()
    t.pass('a memory store the plugin made is closed with the app')
    const custom = await lockApp(t, { store })
    await (await custom.app.walletLock.acquire('w')).release()
    await custom.app.close()
    t.equal(closed, false, 'a store passed in belongs to the caller')
  }
)

t.test('an onEvent that throws is logged, never thrown', async (t) => {
  const logged: string[] = []
  const app = Fastify({
    logger: {
      level: 'error',
      stream: {
        write: (line: string) => {
          logged.push(line)
        }
      }
    }
  })
  t.teardown(() => app.close())
  await app.register(walletLock, {
    onEvent: () => {
      throw new Error('listener bug')
    }
  })
  const lock = await app.walletLock.acquire('w')
  t.equal(await lock.release(), true)
  t.match(logged.join(''), /@moolah\/fastify-wallet-lock: onEvent threw/)
})
