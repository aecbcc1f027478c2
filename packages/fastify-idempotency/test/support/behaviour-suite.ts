import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { storageKey } from '../../src/index.js'
import { blockEventLoop, buildApp, eventTypes, gate, post } from './app.js'
import type { StoreBackend } from './stores.js'

/**
 * The behaviour every store must give the plugin; run against memory, Redis and a Redis
 * Cluster. One backend serves the whole file (a cluster takes seconds to start); every
 * test gets its own key prefix.
 */
export function behaviourSuite(t: Test, backend: StoreBackend): void {
  let tests = 0
  const isolated = () => ({ store: backend.newStore(), prefix: `${backend.prefix}${++tests}:` })

  t.test('replays status, allowlisted headers and body bytes exactly, marked as a replay', async (t) => {
    let calls = 0
    const { app, events } = await buildApp(t, isolated(), (app) => {
      app.post('/transfers', async (_request, reply) => {
        calls++
        reply.code(201).header('location', `/transfers/${calls}`).header('etag', '"v1"').header('x-trace', String(calls)).header('set-cookie', 'session=secret')
        // Key order and spacing are part of the bytes a replay must reproduce.
        return reply.type('application/vnd.moolah+json').send(`{"id":${calls},  "z":1,"a":"é"}`)
      })
      app.post('/empty', async (_request, reply) => { calls++; return reply.code(204).send() })
      app.post('/text', async () => { calls++; return `plain text ${calls}` })
    })

    const first = await post(app, '/transfers', 'fidelity-1', { amount: 100 }, { 'idempotent-replayed': 'true' })
    t.equal(first.statusCode, 201)
    t.equal(first.headers['idempotent-replayed'], undefined, 'a client cannot forge the replay marker')
    const again = await post(app, '/transfers', '"fidelity-1"', { amount: 100 })
    t.equal(again.statusCode, 201)
    t.equal(again.headers.location, '/transfers/1')
    t.equal(again.headers.etag, '"v1"')
    t.equal(again.headers['content-type'], first.headers['content-type'])
    t.equal(again.headers['idempotent-replayed'], 'true')
    t.equal(again.headers['x-trace'], undefined, 'headers outside the allowlist are not replayed')
    t.equal(again.headers['set-cookie'], undefined, 'cookies are never replayed')
    t.same(again.rawPayload, first.rawPayload)
    t.equal(calls, 1)

    const empty = await post(app, '/empty', 'fidelity-2')
    const emptyAgain = await post(app, '/empty', 'fidelity-2')
    t.equal(empty.statusCode, 204)
    t.equal(emptyAgain.statusCode, 204)
    t.equal(emptyAgain.rawPayload.length, 0)
    t.equal(emptyAgain.headers['idempotent-replayed'], 'true')

    const text = await post(app, '/text', 'fidelity-3')
    const textAgain = await post(app, '/text', 'fidelity-3', undefined, { 'x-idempotency-key': 'fidelity-3' })
    t.equal(textAgain.body, 'plain text 3')
    t.equal(textAgain.headers['content-type'], text.headers['content-type'])
    t.equal(calls, 3)
    t.same(eventTypes(events), ['claimed', 'committed', 'replayed', 'claimed', 'committed', 'replayed', 'claimed', 'committed', 'replayed'])
  })

  t.test('100 concurrent requests with one key on 3 instances: the handler runs exactly once', async (t) => {
    let calls = 0
    const apps: FastifyInstance[] = []
    const { prefix } = isolated()
    for (let i = 0; i < 3; i++) {
      const { app } = await buildApp(t, { store: backend.newStore(), prefix }, (app) => {
        app.post('/transfers', async (_request, reply) => {
          calls++
          await sleep(50)
          return reply.code(201).header('location', '/transfers/1').send({ id: 'only-one' })
        })
      })
      apps.push(app)
    }
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => post(apps[i % 3] as FastifyInstance, '/transfers', 'concurrent')))
    t.equal(calls, 1, 'the handler ran once')
    const executed = responses.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined)
    const replayed = responses.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === 'true')
    const conflicts = responses.filter((r) => r.statusCode === 409)
    t.equal(executed.length, 1)
    t.equal(executed.length + replayed.length + conflicts.length, 100, 'every other answer is a replay or a 409')
    for (const conflict of conflicts) {
      t.equal(conflict.json().code, 'IDEMPOTENCY_KEY_IN_USE')
      t.equal(conflict.headers['retry-after'], '1')
    }
    for (const replay of replayed) t.same(replay.rawPayload, executed[0]?.rawPayload)
    const late = await post(apps[2] as FastifyInstance, '/transfers', 'concurrent')
    t.equal(late.headers['idempotent-replayed'], 'true')
    t.equal(late.headers.location, '/transfers/1')
  })

  t.test('same key with a different body is 422; another principal is independent', async (t) => {
    let calls = 0
    const held = gate()
    const { app, events } = await buildApp(t, isolated(), (app) => {
      app.post('/transfers', async (request, reply) => {
        calls++
        if ((request.body as { amount: number }).amount === 1) await held.promise
        return reply.code(201).send({ call: calls, principal: request.idempotency?.scope })
      })
    })
    const inFlight = post(app, '/transfers', 'shared', { amount: 1 })
    await waitForCalls(() => calls, 1)
    const reusedWhileInFlight = await post(app, '/transfers', 'shared', { amount: 2 })
    t.equal(reusedWhileInFlight.statusCode, 422, 'a mismatch is detected even while in flight')
    t.equal(reusedWhileInFlight.json().code, 'IDEMPOTENCY_KEY_REUSED')
    const conflict = await post(app, '/transfers', 'shared', { amount: 1 })
    t.equal(conflict.statusCode, 409)
    t.equal(conflict.headers['retry-after'], '1')
    held.open()
    t.equal((await inFlight).statusCode, 201)

    const reused = await post(app, '/transfers', 'shared', { amount: 2 })
    t.equal(reused.statusCode, 422)
    const bob = await post(app, '/transfers', 'shared', { amount: 2 }, { 'x-user': 'bob' })
    t.equal(bob.statusCode, 201)
    t.same(bob.json(), { call: 2, principal: 'bob' })
    t.equal(bob.headers['idempotent-replayed'], undefined)
    const replay = await post(app, '/transfers', 'shared', { amount: 1 })
    t.same(replay.json(), { call: 1, principal: 'alice' }, "the plugin's own 409 and 422 did not touch the stored result")
    t.equal(calls, 2)
    t.ok(events.some((event) => event.type === 'mismatch'))
    t.ok(events.some((event) => event.type === 'conflict'))
  })

  t.test('same key on another path or query string of one route pattern is 422, never the other answer', async (t) => {
    const calls: string[] = []
    const { app } = await buildApp(t, isolated(), (app) => {
      app.post('/providers/:provider/refresh', async (request, reply) => {
        calls.push(request.url)
        return reply.code(201).send({ refreshed: (request.params as { provider: string }).provider })
      })
    })
    t.same((await post(app, '/providers/flash/refresh', 'refresh-1')).json(), { refreshed: 'flash' })
    const otherPath = await post(app, '/providers/easypay/refresh', 'refresh-1')
    t.equal(otherPath.statusCode, 422, "easypay does not get flash's answer")
    t.equal(otherPath.json().code, 'IDEMPOTENCY_KEY_REUSED')
    t.equal((await post(app, '/providers/flash/refresh', 'refresh-1')).headers['idempotent-replayed'], 'true', 'the exact retry still replays')

    t.equal((await post(app, '/providers/flash/refresh?dryRun=true', 'refresh-2')).statusCode, 201)
    const otherQuery = await post(app, '/providers/flash/refresh?dryRun=false', 'refresh-2')
    t.equal(otherQuery.statusCode, 422)
    t.equal(otherQuery.json().code, 'IDEMPOTENCY_KEY_REUSED')
    t.equal((await post(app, '/providers/flash/refresh', 'refresh-2')).statusCode, 422, 'dropping the query string is a different request too')
    t.equal((await post(app, '/providers/flash/refresh?dryRun=true', 'refresh-2')).headers['idempotent-replayed'], 'true')
    t.same(calls, ['/providers/flash/refresh', '/providers/flash/refresh?dryRun=true'])
  })

  t.test('non-stored statuses and thrown errors release the key; the retry runs', async (t) => {
    let calls = 0
    const { app, events } = await buildApp(t, isolated(), (app) => {
      app.post('/transfers', async (_request, reply) => {
        calls++
        if (calls === 1) return reply.code(422).send({ code: 'INSUFFICIENT_FUNDS' })
        if (calls === 2) throw new Error('database down')
        if (calls === 3) throw new Error('answered with 200')
        return reply.code(201).send({ call: calls })
      })
      // An error the host's error handler answers with a 2xx still releases the key.
      app.setErrorHandler((error: Error, _request, reply) => error.message === 'answered with 200' ? reply.code(200).send({ handled: true }) : reply.send(error))
    })
    t.equal((await post(app, '/transfers', 'retry-me')).statusCode, 422)
    t.equal((await post(app, '/transfers', 'retry-me')).statusCode, 500)
    t.equal((await post(app, '/transfers', 'retry-me')).statusCode, 200)
    const success = await post(app, '/transfers', 'retry-me')
    t.same(success.json(), { call: 4 })
    const replay = await post(app, '/transfers', 'retry-me')
    t.same(replay.json(), { call: 4 })
    t.equal(replay.headers['idempotent-replayed'], 'true')
    t.same(events.filter((event) => event.type === 'released').map((event) => event.type === 'released' && event.reason), ['status', 'error', 'error'])
  })

  t.test('a handler that outlives its lease keeps the claim through renewal', async (t) => {
    let calls = 0
    const held = gate()
    const { app } = await buildApp(t, { ...isolated(), leaseMs: 150 }, (app) => {
      app.post('/transfers', async (_request, reply) => {
        calls++
        await held.promise
        return reply.code(201).send({ call: calls })
      })
    })
    const slow = post(app, '/transfers', 'long')
    await waitForCalls(() => calls, 1)
    await sleep(450) // three leases
    t.equal((await post(app, '/transfers', 'long')).statusCode, 409, 'still claimed after three lease lengths')
    held.open()
    t.equal((await slow).statusCode, 201)
    t.equal((await post(app, '/transfers', 'long')).headers['idempotent-replayed'], 'true')
    t.equal(calls, 1)
  })

  t.test('a dead owner holds the key only for its lease', async (t) => {
    const { store, prefix } = isolated()
    let calls = 0
    const { app } = await buildApp(t, { store, prefix, fingerprint: () => 'same-request' }, (app) => {
      app.post('/transfers', async (_request, reply) => { calls++; return reply.code(201).send({ call: calls }) })
    })
    // A process claimed the key and died: nobody renews or releases it.
    const key = storageKey(prefix, { scope: 'alice', method: 'POST', route: '/transfers', key: 'orphan' })
    t.same(await store.claim(key, { token: 'dead-process', fingerprint: 'same-request', leaseMs: 200 }), { state: 'claimed' })
    const orphaned = await post(app, '/transfers', 'orphan')
    t.equal(orphaned.statusCode, 409)
    t.equal(orphaned.headers['retry-after'], '1')
    await sleep(250)
    const retry = await post(app, '/transfers', 'orphan')
    t.equal(retry.statusCode, 201)
    t.equal(calls, 1)
  })

  t.test("a stale owner's late commit is rejected and the newer result stays", async (t) => {
    let calls = 0
    const entered = gate()
    const held = gate()
    const { app, events } = await buildApp(t, { ...isolated(), leaseMs: 100 }, (app) => {
      app.post('/transfers', async (_request, reply) => {
        const call = ++calls
        if (call === 1) {
          entered.open()
          blockEventLoop(350) // a long pause: the lease expires and renewal cannot run
          await held.promise
        }
        return reply.code(201).send({ call })
      })
    })
    const stale = post(app, '/transfers', 'stale')
    await entered.promise
    await waitForEvent(events, 'lease-lost')
    const newer = await post(app, '/transfers', 'stale')
    t.same(newer.json(), { call: 2 })
    held.open()
    const staleResponse = await stale
    t.same(staleResponse.json(), { call: 1 }, 'the stale owner still answers its client')
    const replay = await post(app, '/transfers', 'stale')
    t.same(replay.json(), { call: 2 }, 'the newer owner’s record was not overwritten')
    t.same(events.filter((event) => event.type === 'lease-lost').map((event) => event.type === 'lease-lost' && event.operation), ['renew', 'commit'])
  })

  t.test("a stale owner's release is refused", async (t) => {
    const { app, events } = await buildApp(t, { ...isolated(), leaseMs: 100 }, (app) => {
      app.post('/transfers', async (_request, reply) => {
        blockEventLoop(350)
        await sleep(10) // lets the (refused) renewal run first
        return reply.code(500).send({ failed: true })
      })
    })
    t.equal((await post(app, '/transfers', 'stale-release')).statusCode, 500)
    t.same(events.filter((event) => event.type === 'lease-lost').map((event) => event.type === 'lease-lost' && event.operation), ['renew', 'release'])
  })

  t.test('wait: true replays the in-flight result, or runs when it was released', async (t) => {
    let calls = 0
    let failNext = false
    const held = gate()
    const { app } = await buildApp(t, isolated(), (app) => {
      app.post('/transfers', { config: { idempotency: { wait: true } } }, async (_request, reply) => {
        const call = ++calls
        await held.promise
        const fail = failNext
        failNext = false
        if (fail) await sleep(100)
        return reply.code(fail ? 503 : 201).send({ call })
      })
      app.post('/impatient', { config: { idempotency: { wait: { timeoutMs: 100 } } } }, async () => { await sleep(400); return { ok: true } })
    })
    const first = post(app, '/transfers', 'waited')
    await waitForCalls(() => calls, 1)
    const waiting = post(app, '/transfers', 'waited')
    await sleep(100)
    held.open()
    t.same((await first).json(), { call: 1 })
    const waited = await waiting
    t.same(waited.json(), { call: 1 })
    t.equal(waited.headers['idempotent-replayed'], 'true')

    failNext = true
    const failing = post(app, '/transfers', 'released')
    await waitForCalls(() => calls, 2)
    const retry = post(app, '/transfers', 'released')
    t.equal((await failing).statusCode, 503)
    t.same((await retry).json(), { call: 3 }, 'the waiter claimed the released key and ran')

    const impatient = post(app, '/impatient', 'slow')
    await sleep(20)
    const started = Date.now()
    const gaveUp = await post(app, '/impatient', 'slow')
    t.equal(gaveUp.statusCode, 409)
    t.equal(gaveUp.headers['retry-after'], '1', 'a 409 after waiting says when to retry too')
    t.ok(Date.now() - started < 350, 'gave up after wait.timeoutMs')
    t.equal((await impatient).statusCode, 200)
  })
}

async function waitForCalls(calls: () => number, n: number): Promise<void> {
  while (calls() < n) await sleep(5)
}

async function waitForEvent(events: Array<{ type: string }>, type: string): Promise<void> {
  while (!events.some((event) => event.type === type)) await sleep(5)
}
