import { randomBytes } from 'node:crypto'
import fastifyRedis from '@fastify/redis'
import { redisPrefix } from '@moolah/test-utils'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import t from 'tap'
import {
  idempotency,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
  type IdempotencyEvent,
  type IdempotencyOptions
} from '../src/index.js'
import { buildApp, post } from './support/app.js'

t.test('which requests take part: methods, opt-in, opt-out, optional keys', async (t) => {
  const calls: string[] = []
  const { app } = await buildApp(t, {}, (app) => {
    const handler = async (request: { url: string }) => {
      calls.push(request.url)
      return { n: calls.length }
    }
    app.post('/default', handler)
    app.patch('/default', handler)
    app.put('/put', handler)
    app.post('/opted-out', { config: { idempotency: false } }, handler)
    app.get('/opted-in', { config: { idempotency: true } }, handler)
    app.post('/optional', { config: { idempotency: { required: false } } }, handler)
  })
  t.equal((await post(app, '/default', undefined)).json().code, 'IDEMPOTENCY_KEY_MISSING')
  t.equal(
    (await app.inject({ method: 'PATCH', url: '/default', payload: {} })).statusCode,
    400,
    'PATCH takes part by default'
  )
  t.equal((await app.inject({ method: 'PUT', url: '/put', payload: {} })).statusCode, 200, 'PUT does not')
  t.equal((await post(app, '/opted-out', undefined)).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/opted-in' })).statusCode, 400)
  const get = await app.inject({ method: 'GET', url: '/opted-in', headers: { 'idempotency-key': 'g' } })
  t.equal(
    (await app.inject({ method: 'GET', url: '/opted-in', headers: { 'idempotency-key': 'g' } })).body,
    get.body
  )
  t.equal(
    (await post(app, '/optional', undefined)).statusCode,
    200,
    'a key is optional where required is false'
  )
  t.equal((await post(app, '/optional', undefined)).statusCode, 200)
  t.equal(
    (await post(app, '/optional', 'o')).body,
    (await post(app, '/optional', 'o')).body,
    'but used when sent'
  )
  const invalid = await post(app, '/default', 'has space')
  t.equal(invalid.statusCode, 400)
  t.equal(invalid.json().code, 'IDEMPOTENCY_KEY_INVALID')
  t.match(invalid.json().message, /printable ASCII/)
  t.equal((await post(app, '/nowhere', 'k')).statusCode, 404, 'unknown routes are left alone')
})

t.test('request.idempotency carries key, scope and fingerprint for the database guarantee', async (t) => {
  const seen: unknown[] = []
  const { app } = await buildApp(
    t,
    { fingerprint: (request) => `fp-${(request.body as { amount: number }).amount}` },
    (app) => {
      app.post('/transfers', async (request) => {
        seen.push(request.idempotency)
        return { ok: true }
      })
      app.post('/plain', { config: { idempotency: false } }, async (request) => {
        seen.push(request.idempotency)
        return { ok: true }
      })
    }
  )
  await post(app, '/transfers', '"k-1"', { amount: 5 }, { 'x-user': 'carol' })
  await post(app, '/plain', undefined)
  t.same(seen, [{ key: 'k-1', scope: 'carol', fingerprint: 'fp-5' }, null])
})

t.test('route overrides: scope, fingerprint, storage policy, headers', async (t) => {
  let calls = 0
  const { app } = await buildApp(t, {}, (app) => {
    app.post(
      '/by-tenant',
      {
        config: {
          idempotency: {
            scope: async (request) => String(request.headers['x-tenant']),
            fingerprint: async () => 'ignores-body',
            shouldStore: (status) => status === 202,
            replayHeaders: ['x-receipt']
          }
        }
      },
      async (_request, reply) => {
        calls++
        return reply
          .code(calls === 1 ? 200 : 202)
          .header('x-receipt', calls)
          .send({ calls })
      }
    )
  })
  const headers = { 'x-tenant': 't1' }
  t.same(
    (await post(app, '/by-tenant', 'k', { a: 1 }, headers)).json(),
    { calls: 1 },
    '200 is not stored here'
  )
  t.same((await post(app, '/by-tenant', 'k', { a: 2 }, headers)).json(), { calls: 2 })
  const replay = await post(app, '/by-tenant', 'k', { a: 3 }, { ...headers, 'x-user': 'someone-else' })
  t.same(replay.json(), { calls: 2 }, 'same tenant, any body: replayed')
  t.equal(replay.headers['x-receipt'], '2')
  t.equal(
    replay.headers['content-type'],
    'application/octet-stream',
    'content-type was not in this route’s allowlist, so Fastify’s default for bytes applies'
  )
})

t.test('a scope function that does not return a string is a programming error', async (t) => {
  const { app } = await buildApp(t, { scope: () => undefined as unknown as string }, (app) => {
    app.post('/transfers', async () => ({ ok: true }))
  })
  const response = await post(app, '/transfers', 'k')
  t.equal(response.statusCode, 500)
})

t.test('an onEvent listener that throws is logged, never thrown', async (t) => {
  const logged: string[] = []
  const app = Fastify({
    logger: {
      level: 'warn',
      stream: {
        write: (line: string) => {
          logged.push(line)
        }
      }
    }
  })
  t.teardown(() => app.close())
  await app.register(idempotency, {
    onEvent: () => {
      throw new Error('listener bug')
    }
  })
  app.post('/transfers', async () => ({ ok: true }))
  t.equal((await post(app, '/transfers', 'k')).statusCode, 200)
  t.ok(
    logged.some((line) => line.includes('no scope function')),
    'warned once at start-up about the missing scope'
  )
  t.ok(logged.some((line) => line.includes('onEvent threw') && line.includes('listener bug')))
})

t.test(
  'default store: memory without Redis, fastify.redis when registered, closed with the app',
  async (t) => {
    const memoryApp = Fastify()
    await memoryApp.register(idempotency, { scope: () => 'x' })
    await memoryApp.ready()
    t.type(memoryApp.idempotencyStore, MemoryIdempotencyStore)
    await memoryApp.close()

    const { url, prefix } = redisPrefix(t)
    const events: IdempotencyEvent[] = []
    const redisApp = Fastify()
    t.teardown(() => redisApp.close())
    await redisApp.register(fastifyRedis, { url })
    await redisApp.register(idempotency, { prefix, scope: () => 'x', onEvent: (event) => events.push(event) })
    redisApp.post('/t', async () => ({ ok: true }))
    await redisApp.ready()
    t.type(redisApp.idempotencyStore, RedisIdempotencyStore)
    await post(redisApp, '/t', 'k')
    const check = new Redis(url)
    t.teardown(() => check.disconnect())
    t.equal((await check.keys(`${prefix}*`)).length, 1, 'the record is in fastify.redis')
    t.same(
      events.map((event) => event.type),
      ['claimed', 'committed']
    )
  }
)

async function register(options: unknown): Promise<void> {
  const app = Fastify()
  try {
    await app.register(idempotency, options as IdempotencyOptions)
    await app.ready()
  } finally {
    await app.close()
  }
}

t.test('refuses wrong option types at registration with a clear message', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [
      { store: {} },
      /^@moolah\/fastify-idempotency: options\.store must implement IdempotencyStore; missing claim, renew, commit, release$/
    ],
    [{ store: null }, /options\.store must implement IdempotencyStore/],
    [
      { store: new MemoryIdempotencyStore(), prefix: 'app:' },
      /options\.prefix would be ignored next to options\.store/
    ],
    [
      { store: new MemoryIdempotencyStore(), redis: new Redis({ lazyConnect: true }) },
      /options\.redis would be ignored next to options\.store/
    ],
    [{ redis: {} }, /options\.redis must be an ioredis Redis or Cluster client/],
    [{ redis: null }, /redis must be an ioredis/],
    [{ prefix: 1 }, /options\.prefix must be a string without \{ or \}, got 1/],
    [{ prefix: 'a{b}' }, /options\.prefix must be a string without \{ or \}/],
    [{ timeoutMs: 0 }, /options\.timeoutMs must be a positive integer, got 0/],
    [{ timeoutMs: 1.5 }, /timeoutMs must be a positive integer/],
    [{ failMode: 'maybe' }, /options\.failMode must be 'closed' or 'open', got "maybe"/],
    [{ encryptionKey: Buffer.alloc(16) }, /options\.encryptionKey must be a Buffer of 32 bytes/],
    [{ encryptionKey: 'x'.repeat(32) }, /encryptionKey must be a Buffer of 32 bytes/],
    [{ methods: 'POST' }, /options\.methods must be an array of non-empty strings/],
    [{ methods: [''] }, /methods must be an array/],
    [{ headerNames: [] }, /options\.headerNames must be an array of at least one non-empty string/],
    [{ onEvent: 'log' }, /options\.onEvent must be a function/],
    [{ required: 'yes' }, /options\.required must be a boolean/],
    [{ scope: 'user' }, /options\.scope must be a function/],
    [{ fingerprint: 1 }, /fingerprint must be a function/],
    [{ wait: 'yes' }, /options\.wait must be a boolean or/],
    [{ wait: { maxMs: -1 } }, /options\.wait\.maxMs must be a positive integer/],
    [{ wait: { intervalMs: 0 } }, /options\.wait\.intervalMs must be a positive integer/],
    [{ leaseMs: 0 }, /options\.leaseMs must be a positive integer/],
    [{ ttlSeconds: '1d' }, /ttlSeconds must be a positive integer/],
    [{ shouldStore: true }, /shouldStore must be a function/],
    [{ replayHeaders: ['set-cookie'] }, /options\.replayHeaders must not include set-cookie/],
    [{ replayHeaders: ['Authorization'] }, /replayHeaders must not include authorization/],
    [{ maxBodyBytes: 0 }, /maxBodyBytes must be a positive integer/]
  ]
  for (const [options, message] of cases) {
    await t.rejects(register(options), { name: 'TypeError', message }, String(message))
  }
  await t.resolves(
    register({
      store: new MemoryIdempotencyStore(),
      scope: () => 'x',
      wait: false,
      replayHeaders: [],
      methods: []
    })
  )
  await t.resolves(
    register({ scope: () => 'x', wait: { maxMs: 100 }, prefix: 'app:' }),
    'prefix with the default store (memory here)'
  )
})

t.test('refuses wrong route overrides when the route is declared', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(idempotency, { scope: () => 'x' })
  t.throws(
    () => app.post('/bad', { config: { idempotency: { leaseMs: -5 } } }, async () => 'x'),
    /^@moolah\/fastify-idempotency: route POST \/bad config\.idempotency\.leaseMs must be a positive integer, got -5$/
  )
  t.throws(
    () => app.post('/wait', { config: { idempotency: { wait: { maxMs: 0 } } } }, async () => 'x'),
    /route POST \/wait config\.idempotency\.wait\.maxMs must be a positive integer/
  )
  t.throws(
    () => app.post('/worse', { config: { idempotency: 'yes' as unknown as boolean } }, async () => 'x'),
    /route POST \/worse config\.idempotency must be a boolean or an object/
  )
  t.throws(
    () =>
      app.post('/cookie', { config: { idempotency: { replayHeaders: ['set-cookie'] } } }, async () => 'x'),
    /must not include set-cookie/
  )
})

t.test('MemoryIdempotencyStore refuses a non-positive bound', async (t) => {
  t.throws(
    () => new MemoryIdempotencyStore({ maxEntries: 0 }),
    /^@moolah\/fastify-idempotency: MemoryIdempotencyStore options\.maxEntries must be a positive integer, got 0$/
  )
})

t.test('stored responses are encrypted at rest and replay in plain text', async (t) => {
  const { prefix, url } = redisPrefix(t)
  const client = new Redis(url)
  t.teardown(() => client.disconnect())
  const secret = 'card 4111-1111-1111-1111'
  const routes = (app: Parameters<Parameters<typeof buildApp>[2]>[0]) => {
    app.post('/cards', async (_request, reply) =>
      reply.code(201).header('location', '/cards/9').send({ secret })
    )
  }
  const { app } = await buildApp(t, { redis: client, prefix, encryptionKey: randomBytes(32) }, routes)
  const first = await post(app, '/cards', 'enc')
  t.equal(first.statusCode, 201)

  const [key] = await client.keys(`${prefix}*`)
  const raw = await client.getBuffer(key as string)
  t.ok(raw !== null && raw.length > secret.length)
  t.notOk(raw?.includes(Buffer.from('4111')), 'the body is not in Redis in plain text')
  t.notOk(raw?.includes(Buffer.from('/cards/9')), 'nor are the headers')

  const replay = await post(app, '/cards', 'enc')
  t.equal(replay.body, first.body)
  t.equal(replay.headers.location, '/cards/9')

  // Another instance configured with a different key cannot read the record: 503, never a re-run.
  const { app: misconfigured, events } = await buildApp(
    t,
    {
      store: new RedisIdempotencyStore({ redis: client, prefix }),
      encryptionKey: randomBytes(32),
      failMode: 'open'
    },
    routes
  )
  const refused = await post(misconfigured, '/cards', 'enc')
  t.equal(refused.statusCode, 503)
  t.equal(refused.headers['retry-after'], '1')
  t.match(events, [{ type: 'store-error', operation: 'decode' }])
})

t.test('routes of a context made before the plugin was registered keep working', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(async (child) => {
    child.get('/early', async () => ({ ok: true }))
    child.get('/early-error', async () => {
      throw new Error('boom')
    })
  })
  await app.register(idempotency, { store: new MemoryIdempotencyStore(), scope: () => 'user' })
  t.same((await app.inject('/early')).json(), { ok: true })
  t.equal((await app.inject('/early-error')).statusCode, 500)
})
