import { setTimeout as sleep } from 'node:timers/promises'
import { startRedis, waitUntil } from '@moolah/test-utils'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { IdempotencyOptions } from '../src/index.js'
import { buildApp, gate, post } from './support/app.js'

const TIMEOUT_MS = 200

async function setup(t: Test, options: IdempotencyOptions = {}) {
  const server = await startRedis(t)
  const client = new Redis(server.url)
  client.on('error', () => {}) // connection errors while the server is down are expected here
  t.teardown(() => client.disconnect())
  let calls = 0
  const held = { current: gate() }
  held.current.open()
  const { app, events } = await buildApp(t, { redis: client, timeoutMs: TIMEOUT_MS, ...options }, (app) => {
    app.post('/transfers', async (_request, reply) => {
      calls++
      await held.current.promise
      return reply.code(201).send({ calls })
    })
    app.post('/failing', async () => {
      calls++
      await held.current.promise
      throw new Error('boom')
    })
  })
  return { server, client, app, events, held, calls: () => calls }
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = Date.now()
  const result = await run()
  return [result, Date.now() - started]
}

t.test(
  'closed mode: a paused Redis is 503 after the timeout, while still paused; a late claim is given back',
  async (t) => {
    const { server, client, app, events, calls } = await setup(t)
    server.pause()
    const [response, elapsed] = await timed(() => post(app, '/transfers', 'paused'))
    t.equal(response.statusCode, 503, 'answered although Redis never did: it is paused until below')
    t.equal(response.json().code, 'DEPENDENCY_UNAVAILABLE')
    t.equal(response.headers['retry-after'], '1')
    t.ok(elapsed >= TIMEOUT_MS - 5, `waited the timeout first (${elapsed} ms)`)
    t.equal(calls(), 0, 'nothing ran')
    t.match(events, [
      {
        type: 'store-error',
        operation: 'claim',
        error: { name: 'TimeoutError', message: `claim timed out after ${TIMEOUT_MS} ms` }
      }
    ])
    server.resume()
    // The queued claim lands after the timeout; the plugin releases it instead of blocking the key for a lease.
    await waitUntil(async () => (await client.dbsize()) === 0, 'the late claim to be released')
    t.equal((await post(app, '/transfers', 'paused')).statusCode, 201)
  }
)

t.test('closed mode: a stopped Redis is 503; everything recovers after a restart', async (t) => {
  const { server, app } = await setup(t)
  await server.stop()
  const response = await post(app, '/transfers', 'stopped')
  t.equal(response.statusCode, 503, 'answered while Redis is still stopped')
  t.equal(response.headers['retry-after'], '1')
  await server.restart()
  await waitUntil(
    async () => (await post(app, '/transfers', 'stopped')).statusCode === 201,
    'recovery after restart'
  )
  t.equal((await post(app, '/transfers', 'stopped')).headers['idempotent-replayed'], 'true')
})

t.test('open mode: requests pass through without idempotency while Redis is down', async (t) => {
  const { server, app, calls } = await setup(t, { failMode: 'open' })
  server.pause()
  const first = await post(app, '/transfers', 'open')
  t.equal(first.statusCode, 201)
  t.equal((await post(app, '/transfers', 'open')).statusCode, 201)
  t.equal(calls(), 2, 'both ran: that is what open means')
  server.resume()
})

t.test('renew, commit and release failures are reported; the response still goes out', async (t) => {
  const { server, app, events, held, calls } = await setup(t, { leaseMs: 150 })
  held.current = gate()
  const pending = post(app, '/transfers', 'renew')
  await waitUntil(async () => calls() === 1, 'the handler to start')
  server.pause()
  await waitUntil(
    async () => events.some((event) => event.type === 'store-error' && event.operation === 'renew'),
    'a failed renewal'
  )
  held.current.open()
  t.equal((await pending).statusCode, 201, 'a failed commit does not hide the result')
  t.ok(events.some((event) => event.type === 'store-error' && event.operation === 'commit'))
  server.resume()

  held.current = gate()
  const failing = post(app, '/failing', 'release')
  await waitUntil(async () => calls() === 2, 'the failing handler to start')
  server.pause()
  held.current.open()
  t.equal((await failing).statusCode, 500)
  t.ok(events.some((event) => event.type === 'store-error' && event.operation === 'release'))
  server.resume()
  await sleep(10)
})
