import { request as httpRequest } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { redisClient, startRedis, waitUntil } from '@moolah/test-utils'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { ClientClosedRequestError, MemoryWalletLockStore, type WalletLockEvent } from '../src/index.js'
import { alteredStore } from './support/altered-store.js'
import { lockApp } from './support/app.js'

const body = (from: string, to: string) => ({ fromWalletId: from, toWalletId: to, amount: 100 })
const types = (events: WalletLockEvent[]): string[] => events.map((event) => event.type)

interface LogLine {
  level: number
  msg: string
  reqId?: string
  resources?: string[]
  err?: { code?: string; message?: string }
  res?: { statusCode?: number }
}

/** A Fastify logger option that collects the parsed log lines. */
function collectLogs(): {
  lines: LogLine[]
  logger: { level: string; stream: { write(line: string): void } }
} {
  const lines: LogLine[] = []
  return {
    lines,
    logger: {
      level: 'info',
      stream: {
        write: (line) => {
          lines.push(JSON.parse(line) as LogLine)
        }
      }
    }
  }
}

/** A transfer-like route whose handler reports what it saw; `work` runs inside the lock. */
function transferRoute(
  app: FastifyInstance,
  work: () => Promise<unknown> = async () => undefined,
  path = '/transfers'
): void {
  app.post<{ Body: { fromWalletId: string; toWalletId: string; fail?: 'throw' | 'reply' } }>(
    path,
    {
      schema: {
        body: {
          type: 'object',
          required: ['fromWalletId', 'toWalletId'],
          properties: {
            fromWalletId: { type: 'string' },
            toWalletId: { type: 'string' },
            amount: { type: 'integer' },
            fail: { type: 'string' }
          }
        }
      },
      config: {
        walletLock: (request) => [
          (request.body as { fromWalletId: string }).fromWalletId,
          (request.body as { toWalletId: string }).toWalletId
        ]
      }
    },
    async (request, reply) => {
      await work()
      if (request.body.fail === 'throw') throw new Error('ledger failed')
      if (request.body.fail === 'reply') return reply.code(422).send({ code: 'INSUFFICIENT_FUNDS' })
      const lock = request.walletLock
      return { resources: lock?.resources, fence: lock?.fence, aborted: lock?.signal.aborted }
    }
  )
}

t.test(
  'success: the handler runs under the locks and they are free as soon as the response is out',
  async (t) => {
    const { app, events } = await lockApp(t)
    transferRoute(app)
    const first = await app.inject({ method: 'POST', url: '/transfers', payload: body('w2', 'w1') })
    t.equal(first.statusCode, 200)
    t.match(first.json(), { resources: ['w1', 'w2'], fence: Number, aborted: false })
    t.same(types(events), ['acquired', 'released'])
    const lock = await app.walletLock.acquire(['w1', 'w2'], { waitMs: 0 })
    t.pass('free as soon as the response is out')
    await lock.release()
  }
)

t.test('busy past waitMs: 409 CONCURRENT_REQUEST with Retry-After, and the handler never runs', async (t) => {
  const { app } = await lockApp(t, { waitMs: 50 })
  let runs = 0
  transferRoute(app, async () => {
    runs++
  })
  const held = await app.walletLock.acquire('w1', { leaseMs: 4000 })
  const response = await app.inject({ method: 'POST', url: '/transfers', payload: body('w1', 'w2') })
  t.equal(response.statusCode, 409)
  t.equal(response.json().code, 'CONCURRENT_REQUEST')
  t.equal(response.headers['retry-after'], '1', 'the holder is in this process (its local gate): 1 s')
  t.equal(runs, 0)
  await held.release()
  const w2 = await app.walletLock.acquire('w2', { waitMs: 0 })
  t.pass('w2, taken before w1 failed, was given back')
  await w2.release()
})

t.test('a thrown error and an error reply both release the locks', async (t) => {
  const { app, events } = await lockApp(t)
  transferRoute(app)
  const thrown = await app.inject({
    method: 'POST',
    url: '/transfers',
    payload: { ...body('w1', 'w2'), fail: 'throw' }
  })
  t.equal(thrown.statusCode, 500)
  const replied = await app.inject({
    method: 'POST',
    url: '/transfers',
    payload: { ...body('w1', 'w2'), fail: 'reply' }
  })
  t.equal(replied.statusCode, 422)
  t.same(types(events), ['acquired', 'released', 'acquired', 'released'], 'released exactly once per request')
  const invalid = await app.inject({ method: 'POST', url: '/transfers', payload: { fromWalletId: 'w1' } })
  t.equal(invalid.statusCode, 400, 'validation runs first: no lock for an invalid body')
  t.equal(events.length, 4)
})

t.test(
  'the response does not wait for the release; the release still happens, once, right after',
  async (t) => {
    // The store's release waits until the test lets it go: the answer must come first.
    let letReleaseGo = (): void => {}
    const releaseHeld = new Promise<void>((resolve) => {
      letReleaseGo = resolve
    })
    const store = alteredStore((inner) => ({
      release: async (resource, token) => {
        await releaseHeld
        return await inner.release(resource, token)
      }
    }))
    const { app, events } = await lockApp(t, { store })
    transferRoute(app)
    const response = await app.inject({ method: 'POST', url: '/transfers', payload: body('w1', 'w2') })
    t.equal(response.statusCode, 200, 'answered while the store still holds the release')
    t.same(types(events), ['acquired'], 'the release is still on its way')
    letReleaseGo()
    await waitUntil(async () => types(events).includes('released'), 'the release')
    const lock = await app.walletLock.acquire(['w1', 'w2'], { waitMs: 0 })
    t.pass('released after the response')
    await lock.release()
    t.same(types(events), ['acquired', 'released', 'acquired', 'released'], 'released once')
  }
)

t.test(
  'the release is under way before instance-level onSend hooks (the idempotency commit) run, so their round trips overlap',
  async (t) => {
    let releasesSent = 0
    const store = alteredStore((inner) => ({
      release: (resource, token) => {
        releasesSent++
        return inner.release(resource, token)
      }
    }))
    const { app } = await lockApp(t, { store })
    const sentBeforeCommit: number[] = []
    app.addHook('onSend', async (_request, _reply, payload) => {
      sentBeforeCommit.push(releasesSent)
      await sleep(20) // a commit to the store, awaited before the response leaves
      return payload
    })
    transferRoute(app)
    app.get('/text', { config: { walletLock: () => 'w3' } }, async () => 'plain text')
    t.equal(
      (await app.inject({ method: 'POST', url: '/transfers', payload: body('w1', 'w2') })).statusCode,
      200
    )
    t.same(sentBeforeCommit, [2], 'both releases were sent before the commit started (preSerialization)')

    // a string payload skips preSerialization: the route's onSend starts the release, still unawaited
    t.equal((await app.inject('/text')).body, 'plain text')
    t.equal(releasesSent, 3, 'released once')
    await (await app.walletLock.acquire('w3', { waitMs: 0 })).release()
  }
)

t.test(
  'a release that fails is logged at warn with the request, never thrown and never an unhandled rejection',
  async (t) => {
    const { lines, logger } = collectLogs()
    let fault: 'rejects' | 'throws' = 'rejects'
    const store = alteredStore(() => ({
      release: () => {
        if (fault === 'throws') throw new Error('store bug') // a custom store breaking its contract
        return Promise.reject(new Error('store down'))
      }
    }))
    const { app, events } = await lockApp(t, { store }, { logger })
    transferRoute(app)
    const warnings = () => lines.filter((line) => line.level === 40)
    t.equal(
      (await app.inject({ method: 'POST', url: '/transfers', payload: body('w1', 'w2') })).statusCode,
      200
    )
    await waitUntil(async () => warnings().length === 1, 'the warning')
    t.match(warnings()[0], { reqId: String, resources: ['w1', 'w2'], msg: /not released/ })
    t.match(events.at(-1), { type: 'released', owned: false })
    fault = 'throws'
    t.equal(
      (await app.inject({ method: 'POST', url: '/transfers', payload: body('w3', 'w4') })).statusCode,
      200
    )
    await waitUntil(async () => warnings().length === 2, 'the second warning')
    t.match(warnings()[1], { reqId: String, resources: ['w3', 'w4'] })
    t.match(
      events.filter((event) => event.type === 'store-error'),
      [
        { operation: 'release', error: { message: 'store down' } },
        { operation: 'release', error: { message: 'store bug' } }
      ],
      'the cause is in the store-error event'
    )
    const busy = (await app.walletLock.acquire('w3', { waitMs: 0 }).catch((err: unknown) => err)) as {
      code: string
      retryAfter: number
    }
    t.ok(
      busy.code === 'CONCURRENT_REQUEST' && busy.retryAfter > 1,
      `the store answers (its lease, ${busy.retryAfter} s), not the local gate (1 s): the gate is open again`
    )
  }
)

t.test('every 409 carries Retry-After: busy in the store, and a lease lost under the handler', async (t) => {
  const shared = new MemoryWalletLockStore()
  const { app } = await lockApp(t, { store: shared, waitMs: 50 })
  const otherProcess = await lockApp(t, { store: shared })
  transferRoute(app)
  const held = await otherProcess.app.walletLock.acquire('w1', { leaseMs: 3000 })
  const busy = await app.inject({ method: 'POST', url: '/transfers', payload: body('w1', 'w2') })
  t.equal(busy.statusCode, 409)
  t.ok(
    ['1', '2', '3'].includes(String(busy.headers['retry-after'])),
    `the holder's remaining lease: retry-after ${busy.headers['retry-after']}`
  )
  await held.release()

  // renewals find the lock taken: the lease is lost while the handler runs, which stops on it
  const losing = await lockApp(t, { store: alteredStore(() => ({ renew: async () => false })) })
  losing.app.post(
    '/slow',
    { config: { walletLock: { resources: () => 'w1', leaseMs: 60 } } },
    async (request) => {
      await sleep(100)
      request.walletLock?.signal.throwIfAborted()
      return 'committed'
    }
  )
  const lost = await losing.app.inject({ method: 'POST', url: '/slow' })
  t.equal(lost.statusCode, 409)
  t.match(lost.json(), { code: 'CONCURRENT_REQUEST', message: /lock on w1 was lost/ })
  t.equal(lost.headers['retry-after'], '1')
  t.match(types(losing.events), ['acquired', 'lost', 'released'])
})

t.test('concurrent requests on one wallet run one at a time', async (t) => {
  const { app } = await lockApp(t)
  let inside = 0
  let overlaps = 0
  transferRoute(app, async () => {
    if (++inside > 1) overlaps++
    await sleep(5)
    inside--
  })
  const responses = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      app.inject({
        method: 'POST',
        url: '/transfers',
        payload: i % 2 === 0 ? body('w1', 'w2') : body('w2', 'w1')
      })
    )
  )
  t.same(new Set(responses.map((response) => response.statusCode)), new Set([200]))
  t.equal(overlaps, 0)
  const fences = responses.map((response) => (response.json() as { fence: number }).fence)
  t.equal(new Set(fences).size, 20, 'each request had its own fence')
})

t.test('route options: resolver returning nothing, per-route leaseMs/waitMs, wrong config', async (t) => {
  const { app } = await lockApp(t, { waitMs: 5000 })
  for (const none of [undefined, null, []]) {
    app.get(`/none-${String(none)}`, { config: { walletLock: () => none } }, async (request) => ({
      lock: request.walletLock
    }))
  }
  app.get(
    '/quick',
    { config: { walletLock: { resources: () => 'w1', waitMs: 0, leaseMs: 1000 } } },
    async (request) => ({ fence: request.walletLock?.fence })
  )
  app.get('/plain', async (request) => ({ lock: request.walletLock }))
  for (const url of ['/none-undefined', '/none-null', '/none-', '/plain']) {
    t.same((await app.inject(url)).json(), { lock: null }, `${url}: no lock`)
  }
  const held = await app.walletLock.acquire('w1')
  const started = Date.now()
  t.equal((await app.inject('/quick')).statusCode, 409)
  t.ok(Date.now() - started < 4000, "the route's waitMs 0 wins over the plugin's 5000")
  await held.release()
  t.equal((await app.inject('/quick')).statusCode, 200)
})

t.test('a wrong route config fails when the route is added', async (t) => {
  const { app } = await lockApp(t)
  t.throws(
    () => app.get('/bad', { config: { walletLock: { resources: 'w1' } as never } }, async () => 'x'),
    /^@moolah\/fastify-wallet-lock: route GET \/bad: config.walletLock must be a function or \{ resources: function \}/
  )
  t.throws(
    () =>
      app.get('/bad-ttl', { config: { walletLock: { resources: () => 'w1', leaseMs: 0 } } }, async () => 'x'),
    /route GET \/bad-ttl: config.walletLock.leaseMs must be a positive integer, got 0/
  )
})

t.test(
  'hook order: the lock is taken after every other preHandler; an early reply takes no lock',
  async (t) => {
    const { app, events } = await lockApp(t)
    const order: string[] = []
    app.addHook('preHandler', async (request, reply) => {
      order.push('instance preHandler (e.g. idempotency claim)')
      if (request.headers['x-replay'] === '1') return reply.send({ replayed: true })
    })
    app.post(
      '/ordered',
      {
        preHandler: async () => {
          order.push('route preHandler')
        },
        onSend: async (_request, _reply, payload) => payload,
        onResponse: [
          async () => {
            order.push('onResponse')
          }
        ],
        config: {
          walletLock: () => {
            order.push('lock')
            return 'w1'
          }
        }
      },
      async () => {
        order.push('handler')
        return { ok: true }
      }
    )
    await app.inject({ method: 'POST', url: '/ordered' })
    t.same(
      order,
      ['instance preHandler (e.g. idempotency claim)', 'route preHandler', 'lock', 'handler', 'onResponse'],
      "the route's own hooks are kept"
    )
    order.length = 0
    const replay = await app.inject({ method: 'POST', url: '/ordered', headers: { 'x-replay': '1' } })
    t.same(replay.json(), { replayed: true })
    t.same(
      order,
      ['instance preHandler (e.g. idempotency claim)', 'onResponse'],
      'no lock when an earlier hook already answered'
    )
    t.same(types(events), ['acquired', 'released'])
  }
)

/** Sends a request to a listening app and destroys it after `abortAfterMs`. */
async function abortedRequest(
  app: FastifyInstance,
  path: string,
  payload: object,
  abortAfterMs: number
): Promise<void> {
  const { port } = app.server.address() as { port: number }
  const request = httpRequest({ port, method: 'POST', path, headers: { 'content-type': 'application/json' } })
  request.on('error', () => {})
  request.end(JSON.stringify(payload))
  await sleep(abortAfterMs)
  request.destroy()
}

t.test(
  'client abort while the handler runs: the locks stay until the handler is done, then go',
  async (t) => {
    const { app, events } = await lockApp(t)
    let finished = false
    transferRoute(app, async () => {
      await sleep(300)
      finished = true
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    await abortedRequest(app, '/transfers', body('w1', 'w2'), 100)
    await sleep(50)
    await t.rejects(
      app.walletLock.acquire('w1', { waitMs: 0 }),
      { code: 'CONCURRENT_REQUEST' },
      'still held: the handler may still write'
    )
    await waitUntil(async () => finished, 'the handler to finish')
    const lock = await app.walletLock.acquire('w1', { waitMs: 1000 })
    t.pass('released once the handler answered')
    await lock.release()
    t.same(types(events).filter((type) => type === 'released').length, 2)
  }
)

t.test(
  'client abort while waiting for the lock: the wait ends, the handler never runs, nothing is left held',
  async (t) => {
    const { lines, logger } = collectLogs()
    const { app, events } = await lockApp(t, { waitMs: 5000 }, { logger })
    let runs = 0
    transferRoute(app, async () => {
      runs++
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const held = await app.walletLock.acquire('w1')
    await abortedRequest(app, '/transfers', body('w1', 'w2'), 100)
    await waitUntil(() => lines.some((line) => line.err?.code === 'CLIENT_CLOSED_REQUEST'), 'the wait to end')
    await held.release()
    t.equal(runs, 0)
    const lock = await app.walletLock.acquire(['w1', 'w2'], { waitMs: 0 })
    t.pass('the abandoned request holds nothing')
    await lock.release()
    t.same(
      types(events),
      ['acquired', 'contended', 'released', 'acquired', 'released'],
      'the aborted request waited and never acquired'
    )
  }
)

t.test(
  'client gone while waiting: 499 CLIENT_CLOSED_REQUEST, logged at info, not as a server error',
  async (t) => {
    t.match(new ClientClosedRequestError(), { code: 'CLIENT_CLOSED_REQUEST', statusCode: 499 })
    const { lines, logger } = collectLogs()
    const { app } = await lockApp(t, { waitMs: 5000 }, { logger })
    transferRoute(app)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const held = await app.walletLock.acquire('w1')
    await abortedRequest(app, '/transfers', body('w1', 'w2'), 100)
    await waitUntil(
      async () => lines.some((line) => line.err?.code === 'CLIENT_CLOSED_REQUEST'),
      'the abort to be logged'
    )
    t.match(
      lines.find((line) => line.err?.code === 'CLIENT_CLOSED_REQUEST'),
      { level: 30, res: { statusCode: 499 } }
    )
    t.same(
      lines.filter((line) => line.level >= 50),
      [],
      'nothing at error level'
    )
    await held.release()
  }
)

t.test('connection timeout (onTimeout): the locks stay until the handler answers, then go', async (t) => {
  const { app } = await lockApp(t, {}, { connectionTimeout: 100 })
  let finished = false
  transferRoute(app, async () => {
    await sleep(300)
    finished = true
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const request = httpRequest({
    port,
    method: 'POST',
    path: '/transfers',
    headers: { 'content-type': 'application/json' }
  })
  const closed = new Promise((resolve) => request.on('error', resolve).on('close', resolve))
  request.end(JSON.stringify(body('w1', 'w2')))
  await closed
  t.equal(finished, false, 'the server timed the connection out before the handler finished')
  await t.rejects(app.walletLock.acquire('w1', { waitMs: 0 }), { code: 'CONCURRENT_REQUEST' })
  await waitUntil(async () => finished, 'the handler to finish')
  const lock = await app.walletLock.acquire('w1', { waitMs: 1000 })
  await lock.release()
})

t.test('Redis down: 503 DEPENDENCY_UNAVAILABLE with Retry-After; recovers when Redis is back', async (t) => {
  const server = await startRedis(t)
  const redis = redisClient(t, server.url)
  const { app } = await lockApp(t, { redis, timeoutMs: 200 })
  transferRoute(app)
  t.equal(
    (await app.inject({ method: 'POST', url: '/transfers', payload: body('w1', 'w2') })).statusCode,
    200
  )
  await server.stop()
  const down = await app.inject({ method: 'POST', url: '/transfers', payload: body('w1', 'w2') })
  t.equal(down.statusCode, 503)
  t.equal(down.json().code, 'DEPENDENCY_UNAVAILABLE')
  t.equal(down.headers['retry-after'], '1')
  await server.restart()
  await waitUntil(async () => (await redis.ping()) === 'PONG', 'reconnect')
  t.equal(
    (await app.inject({ method: 'POST', url: '/transfers', payload: body('w1', 'w2') })).statusCode,
    200
  )
})
