import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { redisPrefix, startPostgres, waitUntil } from '@moolah/test-utils'
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { Api } from './helpers/api.js'
import { startApp } from './helpers/app.js'
import { checkLedger } from './helpers/ledger-invariants.js'

// The client-side deadline of every database call (db/database.ts) plus room for a loaded machine.
const ANSWER_BOUND_MS = 2500 + 3000

t.test(
  'Postgres outages: money and accounts answer 503 within the deadline, catalogs stay up, recovery without restart',
  async (t) => {
    const pg = await startPostgres(t)
    const { prefix, url } = redisPrefix(t)
    const app = await startApp(t, {
      DATABASE_URL: pg.url,
      REDIS_URL: url,
      REDIS_KEY_PREFIX: prefix,
      RATE_LIMIT_MAX: '100000',
      RATE_LIMIT_TRANSFERS_MAX: '100000'
    })
    const api = new Api(app)
    const alice = await api.createUser('Alice')
    const from = await api.createWallet(alice)
    const to = await api.createWallet(alice)
    // The probe's own wallet: the load's wallet is locked by requests stuck in Postgres, so a
    // transfer from it may also be a 409 CONCURRENT_REQUEST (busy) rather than a 503.
    const probe = await api.createWallet(alice)
    t.equal((await api.deposit(from.id, 1_000_000)).statusCode, 201)
    t.equal((await api.deposit(probe.id, 1_000)).statusCode, 201)
    t.equal(
      (await api.transfer(alice, { fromWalletId: probe.id, toWalletId: to.id, amount: 1 })).statusCode,
      201,
      'the probe wallet is known to the instance'
    )
    t.equal(
      (await api.request({ method: 'GET', url: '/v1/catalog/flash' })).statusCode,
      200,
      'catalog warm before the outage'
    )
    const created: string[] = []

    /**
     * A light transfer load that keeps pool connections busy while the fault starts. A 503 or 409
     * is an unknown or refused outcome, so each transfer is retried with its key until it is
     * answered 201, as a client should; `stop()` lets the unfinished ones settle (after recovery).
     */
    const backgroundLoad = () => {
      let running = true
      const answers: number[] = []
      const workers = Array.from({ length: 4 }, async () => {
        while (running) {
          const key = randomUUID()
          for (;;) {
            const response = await api.transfer(
              alice,
              { fromWalletId: from.id, toWalletId: to.id, amount: 1 },
              key
            )
            answers.push(response.statusCode)
            if (response.statusCode === 201) {
              created.push(response.json().id)
              break
            }
            await sleep(50)
          }
        }
      })
      return {
        answers,
        stop: async () => {
          running = false
          await Promise.all(workers)
        }
      }
    }

    /** The outage's probe transfer: its 503 is an unknown outcome, settled after recovery with the same key. */
    let probeKey = randomUUID()
    const expectOutage = async (t: Test, label: string) => {
      probeKey = randomUUID()
      const timed = async (send: () => Promise<LightMyRequestResponse>) => {
        const started = Date.now()
        const response = await send()
        return { response, ms: Date.now() - started }
      }
      const answers = await Promise.all([
        timed(() => api.transfer(alice, { fromWalletId: probe.id, toWalletId: to.id, amount: 1 }, probeKey)),
        timed(() => api.deposit(probe.id, 100)),
        timed(() =>
          api.request({
            method: 'POST',
            url: '/v1/wallets',
            token: alice.apiKey,
            key: randomUUID(),
            payload: {}
          })
        ),
        timed(() => api.request({ method: 'GET', url: `/v1/wallets/${from.id}`, token: alice.apiKey })),
        timed(() =>
          api.request({ method: 'GET', url: `/v1/wallets/${from.id}/transactions`, token: alice.apiKey })
        )
      ])
      for (const [i, { response, ms }] of answers.entries()) {
        t.equal(response.statusCode, 503, `${label}: request ${i} is 503`)
        t.match(response.headers['content-type'], /^application\/problem\+json/)
        t.equal(
          response.json().code,
          'DEPENDENCY_UNAVAILABLE',
          `${label}: request ${i} says DEPENDENCY_UNAVAILABLE`
        )
        t.notMatch(
          response.body,
          /SELECT|INSERT|post_transfer|127\.0\.0\.1/,
          `${label}: request ${i} carries no internals`
        )
        t.ok(Number(response.headers['retry-after']) >= 1, `${label}: request ${i} has Retry-After`)
        t.ok(ms < ANSWER_BOUND_MS, `${label}: request ${i} answered in ${ms} ms, within the bound`)
      }
      const catalog = await api.request({ method: 'GET', url: '/v1/catalog/flash' })
      t.equal(catalog.statusCode, 200, `${label}: the catalog is still served`)
      await waitUntil(
        async () => (await app.inject('/health/ready')).json().checks.postgres === 'down',
        `${label}: ready says postgres down`
      )
    }

    const expectRecovery = async (t: Test) => {
      await waitUntil(
        async () => (await app.inject('/health/ready')).statusCode === 200,
        'ready again',
        30_000
      )
      // The probe wallet: the load's wallet may still be busy (409) with its own retries.
      const transfer = await api.transfer(
        alice,
        { fromWalletId: probe.id, toWalletId: to.id, amount: 1 },
        probeKey
      )
      t.equal(
        transfer.statusCode,
        201,
        'transfers work again without a restart: the probe retried with its key'
      )
      if (transfer.statusCode === 201) created.push(transfer.json().id)
    }

    /** The outage starts under load, is checked from outside, ends, and the service recovers by itself. */
    const outageUnderLoad = async (
      t: Test,
      label: string,
      start: () => Promise<void>,
      end: () => Promise<void>
    ) => {
      const load = backgroundLoad()
      await waitUntil(async () => load.answers.length >= 5, 'load running')
      await start()
      await expectOutage(t, label)
      await end()
      await expectRecovery(t)
      await load.stop()
      t.ok(
        load.answers.every((status) => [201, 409, 503].includes(status)),
        'the load saw transfers, 503s and busy-wallet 409s, nothing else'
      )
    }

    await t.test('Postgres hung (SIGSTOP) under load', async (t) => {
      t.teardown(() => pg.resume())
      await outageUnderLoad(
        t,
        'hung',
        () => pg.pause(),
        () => pg.resume()
      )
    })

    await t.test('Postgres killed under load, then restarted', (t) =>
      outageUnderLoad(
        t,
        'down',
        () => pg.stop(),
        () => pg.restart()
      )
    )

    await t.test(
      'retried with their keys, the 503s moved money exactly once; the ledger balances',
      async (t) => {
        t.equal(new Set(created).size, created.length, 'no transfer was answered twice under two keys')
        t.equal(
          await api.balance(alice, to.id),
          created.length + 1,
          'the credited wallet holds one unit per transfer (and the probe)'
        )
        await checkLedger(t, app.database.db)
      }
    )
  }
)
