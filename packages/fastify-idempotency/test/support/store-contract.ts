import { setTimeout as sleep } from 'node:timers/promises'
import { waitUntil } from '@moolah/test-utils'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import {
  RedisIdempotencyStore,
  storageKey,
  type IdempotencyOptions,
  type IdempotencyStore
} from '../../src/index.js'
import { blockEventLoop, buildApp, eventTypes, gate, post, type StoreFactory } from './app.js'

/** The store the plugin would make of these options. */
function storeOf(options: IdempotencyOptions): IdempotencyStore {
  return (
    options.store ??
    new RedisIdempotencyStore({
      redis: options.redis as NonNullable<IdempotencyOptions['redis']>,
      prefix: options.prefix
    })
  )
}

/** `store` with its successful renewals counted. */
function countingRenewals(store: IdempotencyStore): { store: IdempotencyStore; renewals: () => number } {
  let renewals = 0
  return {
    store: {
      claim: (key, claim) => store.claim(key, claim),
      renew: async (key, token, leaseMs) => {
        const renewed = await store.renew(key, token, leaseMs)
        if (renewed) renewals++
        return renewed
      },
      commit: (key, token, response, ttlMs) => store.commit(key, token, response, ttlMs),
      release: (key, token) => store.release(key, token)
    },
    renewals: () => renewals
  }
}

const claim = (token: string, leaseMs = 10_000) => ({ token, fingerprint: 'fp', leaseMs })

/**
 * What every IdempotencyStore must do, and what the plugin does on top of it with several
 * instances sharing the store. Each store-*.test.ts runs it against one kind of store; every
 * test gets a space of its own (`factory(t)`), and each call of what it returns gives the
 * options of one more instance in that space.
 */
export function storeContract(t: Test, factory: StoreFactory): void {
  t.test('the store: claim once, owner-only renew/commit/release, completed records are final', async (t) => {
    const store = storeOf((await factory(t))())
    t.same(await store.claim('k', claim('owner')), { state: 'claimed' })
    t.same(await store.claim('k', claim('other')), { state: 'in-flight', fingerprint: 'fp' })
    t.equal(await store.renew('k', 'intruder', 10_000), false)
    t.equal(await store.commit('k', 'intruder', Buffer.from('x'), 10_000), false)
    t.equal(await store.release('k', 'intruder'), false)
    t.equal(await store.renew('k', 'owner', 10_000), true)
    t.equal(await store.commit('k', 'owner', 'done é', 10_000), true, 'a string stands for its UTF-8 bytes')
    t.same(await store.claim('k', claim('late')), {
      state: 'completed',
      fingerprint: 'fp',
      response: Buffer.from('done é')
    })
    t.equal(await store.release('k', 'owner'), false, 'a completed record is never released')
    t.equal(await store.commit('k', 'owner', Buffer.from('y'), 10_000), false, 'nor committed twice')
    t.equal(await store.renew('missing', 'owner', 10_000), false)
    t.same(await store.claim('binary', claim('owner')), { state: 'claimed' })
    t.equal(await store.release('binary', 'owner'), true)
    t.same(
      await store.claim('binary', claim('next')),
      { state: 'claimed' },
      'a released key can be claimed again'
    )
    t.equal(await store.commit('binary', 'next', Buffer.from([0, 0xff, 0x0a, 0x3a]), 10_000), true)
    t.same(
      await store.claim('binary', claim('late')),
      { state: 'completed', fingerprint: 'fp', response: Buffer.from([0, 0xff, 0x0a, 0x3a]) },
      'bytes come back exactly'
    )
  })

  t.test('the store: leases and retention expire', async (t) => {
    const store = storeOf((await factory(t))())
    // 500 ms: long enough that the next call lands inside it on a loaded machine, short enough to wait out
    await store.claim('lease', claim('first', 500))
    t.same(await store.claim('lease', claim('second', 500)), { state: 'in-flight', fingerprint: 'fp' })
    await sleep(600)
    t.same(await store.claim('lease', claim('second')), { state: 'claimed' }, 'an expired lease is free')
    t.equal(await store.commit('lease', 'second', Buffer.from('done'), 500), true)
    t.same(await store.claim('lease', claim('third')), {
      state: 'completed',
      fingerprint: 'fp',
      response: Buffer.from('done')
    })
    await sleep(600)
    t.same(await store.claim('lease', claim('third')), { state: 'claimed' }, 'so is an expired record')
  })

  t.test('replays status, allowlisted headers and body bytes exactly, marked as a replay', async (t) => {
    let calls = 0
    const { app, events } = await buildApp(t, (await factory(t))(), (app) => {
      app.post('/transfers', async (_request, reply) => {
        calls++
        reply
          .code(201)
          .header('location', `/transfers/${calls}`)
          .header('etag', '"v1"')
          .header('x-trace', String(calls))
          .header('set-cookie', 'session=secret')
        // Key order and spacing are part of the bytes a replay must reproduce.
        return reply.type('application/vnd.moolah+json').send(`{"id":${calls},  "z":1,"a":"é"}`)
      })
      app.post('/empty', async (_request, reply) => {
        calls++
        return reply.code(204).send()
      })
      app.post('/text', async () => {
        calls++
        return `plain text ${calls}`
      })
    })

    const first = await post(
      app,
      '/transfers',
      'fidelity-1',
      { amount: 100 },
      { 'idempotent-replayed': 'true' }
    )
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
    t.same(eventTypes(events), [
      'claimed',
      'committed',
      'replayed',
      'claimed',
      'committed',
      'replayed',
      'claimed',
      'committed',
      'replayed'
    ])
  })

  t.test('100 concurrent requests with one key on 3 instances: the handler runs exactly once', async (t) => {
    let calls = 0
    const apps: FastifyInstance[] = []
    const instance = await factory(t)
    for (let i = 0; i < 3; i++) {
      const { app } = await buildApp(t, instance(), (app) => {
        app.post('/transfers', async (_request, reply) => {
          calls++
          await sleep(50)
          return reply.code(201).header('location', '/transfers/1').send({ id: 'only-one' })
        })
      })
      apps.push(app)
    }
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => post(apps[i % 3] as FastifyInstance, '/transfers', 'concurrent'))
    )
    t.equal(calls, 1, 'the handler ran once')
    const executed = responses.filter(
      (r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined
    )
    const replayed = responses.filter(
      (r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === 'true'
    )
    const conflicts = responses.filter((r) => r.statusCode === 409)
    t.equal(executed.length, 1)
    t.equal(
      executed.length + replayed.length + conflicts.length,
      100,
      'every other answer is a replay or a 409'
    )
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
    const { app, events } = await buildApp(t, (await factory(t))(), (app) => {
      app.post('/transfers', async (request, reply) => {
        calls++
        if ((request.body as { amount: number }).amount === 1) await held.promise
        return reply.code(201).send({ call: calls, principal: request.idempotency?.scope })
      })
    })
    const inFlight = post(app, '/transfers', 'shared', { amount: 1 })
    await waitUntil(() => calls === 1, 'the first request to reach its handler')
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
    t.same(
      replay.json(),
      { call: 1, principal: 'alice' },
      "the plugin's own 409 and 422 did not touch the stored result"
    )
    t.equal(calls, 2)
    t.ok(events.some((event) => event.type === 'mismatch'))
    t.ok(events.some((event) => event.type === 'conflict'))
  })

  t.test(
    'same key on another path or query string of one route pattern is 422, never the other answer',
    async (t) => {
      const calls: string[] = []
      const { app } = await buildApp(t, (await factory(t))(), (app) => {
        app.post('/providers/:provider/refresh', async (request, reply) => {
          calls.push(request.url)
          return reply.code(201).send({ refreshed: (request.params as { provider: string }).provider })
        })
      })
      t.same((await post(app, '/providers/flash/refresh', 'refresh-1')).json(), { refreshed: 'flash' })
      const otherPath = await post(app, '/providers/easypay/refresh', 'refresh-1')
      t.equal(otherPath.statusCode, 422, "easypay does not get flash's answer")
      t.equal(otherPath.json().code, 'IDEMPOTENCY_KEY_REUSED')
      t.equal(
        (await post(app, '/providers/flash/refresh', 'refresh-1')).headers['idempotent-replayed'],
        'true',
        'the exact retry still replays'
      )

      t.equal((await post(app, '/providers/flash/refresh?dryRun=true', 'refresh-2')).statusCode, 201)
      const otherQuery = await post(app, '/providers/flash/refresh?dryRun=false', 'refresh-2')
      t.equal(otherQuery.statusCode, 422)
      t.equal(otherQuery.json().code, 'IDEMPOTENCY_KEY_REUSED')
      t.equal(
        (await post(app, '/providers/flash/refresh', 'refresh-2')).statusCode,
        422,
        'dropping the query string is a different request too'
      )
      t.equal(
        (await post(app, '/providers/flash/refresh?dryRun=true', 'refresh-2')).headers['idempotent-replayed'],
        'true'
      )
      t.same(calls, ['/providers/flash/refresh', '/providers/flash/refresh?dryRun=true'])
    }
  )

  t.test('non-stored statuses and thrown errors release the key; the retry runs', async (t) => {
    let calls = 0
    const { app, events } = await buildApp(t, (await factory(t))(), (app) => {
      app.post('/transfers', async (_request, reply) => {
        calls++
        if (calls === 1) return reply.code(422).send({ code: 'INSUFFICIENT_FUNDS' })
        if (calls === 2) throw new Error('database down')
        if (calls === 3) throw new Error('answered with 200')
        return reply.code(201).send({ call: calls })
      })
      // An error the host's error handler answers with a 2xx still releases the key.
      app.setErrorHandler((error: Error, _request, reply) =>
        error.message === 'answered with 200' ? reply.code(200).send({ handled: true }) : reply.send(error)
      )
    })
    t.equal((await post(app, '/transfers', 'retry-me')).statusCode, 422)
    t.equal((await post(app, '/transfers', 'retry-me')).statusCode, 500)
    t.equal((await post(app, '/transfers', 'retry-me')).statusCode, 200)
    const success = await post(app, '/transfers', 'retry-me')
    t.same(success.json(), { call: 4 })
    const replay = await post(app, '/transfers', 'retry-me')
    t.same(replay.json(), { call: 4 })
    t.equal(replay.headers['idempotent-replayed'], 'true')
    t.same(
      events
        .filter((event) => event.type === 'released')
        .map((event) => event.type === 'released' && event.reason),
      ['status', 'error', 'error']
    )
  })

  t.test('a handler that outlives its lease keeps the claim through renewal', async (t) => {
    let calls = 0
    const held = gate()
    const counted = countingRenewals(storeOf((await factory(t))()))
    // Renewed every 400 ms: the lease lapses only if the event loop stalls for 800 ms
    const leaseMs = 1200
    const { app } = await buildApp(t, { store: counted.store, leaseMs }, (app) => {
      app.post('/transfers', async (_request, reply) => {
        calls++
        await held.promise
        return reply.code(201).send({ call: calls })
      })
    })
    const claimedAt = Date.now()
    const slow = post(app, '/transfers', 'long')
    await waitUntil(() => calls === 1, 'the first request to reach its handler')
    await waitUntil(() => counted.renewals() >= 1, 'the first renewal')
    // Claimed between two ticks: the next tick leaves it alone (it is younger than a third of the lease)
    const younger = post(app, '/transfers', 'younger')
    await waitUntil(
      () => counted.renewals() >= 4 && Date.now() - claimedAt > leaseMs * 1.5,
      'four renewals, past the first lease',
      20_000
    )
    t.equal(
      (await post(app, '/transfers', 'long')).statusCode,
      409,
      'still claimed after its first lease ended'
    )
    held.open()
    t.equal((await slow).statusCode, 201)
    t.equal((await younger).statusCode, 201)
    t.equal((await post(app, '/transfers', 'long')).headers['idempotent-replayed'], 'true')
    t.equal(calls, 2)
  })

  t.test('a dead owner holds the key for its lease, and only for it', async (t) => {
    const options = (await factory(t))()
    const store = storeOf(options)
    let calls = 0
    const { app } = await buildApp(t, { ...options, fingerprint: () => 'same-request' }, (app) => {
      app.post('/transfers', async (_request, reply) => {
        calls++
        return reply.code(201).send({ call: calls })
      })
    })
    // A process claimed the key and died: nobody renews or releases it.
    const key = storageKey({ scope: 'alice', method: 'POST', route: '/transfers', key: 'orphan' })
    const leaseMs = 1000
    const claimedAt = Date.now()
    t.same(await store.claim(key, { token: 'dead-process', fingerprint: 'same-request', leaseMs }), {
      state: 'claimed'
    })
    const orphaned = await post(app, '/transfers', 'orphan')
    if (Date.now() - claimedAt < leaseMs) {
      t.equal(orphaned.statusCode, 409)
      t.equal(orphaned.headers['retry-after'], '1')
    }
    await waitUntil(
      async () => (await post(app, '/transfers', 'orphan')).statusCode === 201,
      'the lease to lapse'
    )
    t.ok(Date.now() - claimedAt >= leaseMs - 5, 'not before the lease ended')
    t.equal(calls, 1)
  })

  t.test("a stale owner's late commit is rejected and the newer result stays", async (t) => {
    let calls = 0
    const entered = gate()
    const held = gate()
    const { app, events } = await buildApp(t, { ...(await factory(t))(), leaseMs: 100 }, (app) => {
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
    await waitUntil(() => events.some((event) => event.type === 'lease-lost'), 'the renewal to be refused')
    const newer = await post(app, '/transfers', 'stale')
    t.same(newer.json(), { call: 2 })
    held.open()
    const staleResponse = await stale
    t.same(staleResponse.json(), { call: 1 }, 'the stale owner still answers its client')
    const replay = await post(app, '/transfers', 'stale')
    t.same(replay.json(), { call: 2 }, 'the newer owner’s record was not overwritten')
    t.same(
      events
        .filter((event) => event.type === 'lease-lost')
        .map((event) => event.type === 'lease-lost' && event.operation),
      ['renew', 'commit']
    )
  })

  t.test("a stale owner's release is refused", async (t) => {
    const { app, events } = await buildApp(t, { ...(await factory(t))(), leaseMs: 100 }, (app) => {
      app.post('/transfers', async (_request, reply) => {
        blockEventLoop(350)
        await sleep(10) // lets the (refused) renewal run first
        return reply.code(500).send({ failed: true })
      })
    })
    t.equal((await post(app, '/transfers', 'stale-release')).statusCode, 500)
    t.same(
      events
        .filter((event) => event.type === 'lease-lost')
        .map((event) => event.type === 'lease-lost' && event.operation),
      ['renew', 'release']
    )
  })

  t.test('wait: true replays the in-flight result, or runs when it was released', async (t) => {
    let calls = 0
    let failNext = false
    let impatientCalls = 0
    const held = gate()
    const impatientHeld = gate()
    const { app } = await buildApp(t, (await factory(t))(), (app) => {
      app.post('/transfers', { config: { idempotency: { wait: true } } }, async (_request, reply) => {
        const call = ++calls
        await held.promise
        const fail = failNext
        failNext = false
        if (fail) await sleep(100)
        return reply.code(fail ? 503 : 201).send({ call })
      })
      app.post('/impatient', { config: { idempotency: { wait: { maxMs: 100 } } } }, async () => {
        impatientCalls++
        await impatientHeld.promise
        return { ok: true }
      })
    })
    const first = post(app, '/transfers', 'waited')
    await waitUntil(() => calls === 1, 'the first request to reach its handler')
    const waiting = post(app, '/transfers', 'waited')
    await sleep(100)
    held.open()
    t.same((await first).json(), { call: 1 })
    const waited = await waiting
    t.same(waited.json(), { call: 1 })
    t.equal(waited.headers['idempotent-replayed'], 'true')

    failNext = true
    const failing = post(app, '/transfers', 'released')
    await waitUntil(() => calls === 2, 'the second request to reach its handler')
    const retry = post(app, '/transfers', 'released')
    t.equal((await failing).statusCode, 503)
    t.same((await retry).json(), { call: 3 }, 'the waiter claimed the released key and ran')

    const impatient = post(app, '/impatient', 'slow')
    await waitUntil(() => impatientCalls === 1, 'the impatient request to reach its handler')
    const gaveUp = await post(app, '/impatient', 'slow')
    t.equal(gaveUp.statusCode, 409, 'gave up after wait.maxMs while the first request was still held')
    t.equal(gaveUp.headers['retry-after'], '1', 'a 409 after waiting says when to retry too')
    impatientHeld.open()
    t.equal((await impatient).statusCode, 200)
    t.equal(impatientCalls, 1)
  })
}
