import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { waitUntil } from '@moolah/test-utils'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { Api, untilFinal } from './helpers/api.js'
import { startApp } from './helpers/app.js'
import { startInstances } from './helpers/instances.js'
import { checkLedger } from './helpers/ledger-invariants.js'
import { RECIPIENT, ScriptableProvider } from './helpers/scriptable-provider.js'

const AIRTIME_10 = 'flash-vodacom-airtime-10'

t.test('purchases across three instances sharing Postgres, Redis and one provider', async (t) => {
  const provider = new ScriptableProvider(400)
  const { env, apps, apis, api, db } = await startInstances(t, { PROVIDER_TIMEOUT_MS: '200' }, { provider })
  const rows = async (query: ReturnType<typeof sql>) => {
    const result = await db.execute(query)
    return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<
      Record<string, unknown>
    >
  }
  const statusOf = async (id: string) =>
    (await rows(sql`SELECT status FROM purchases WHERE id = ${id}`))[0]?.status

  await t.test(
    'duplicate storm: one key sent 50 times at once across instances makes one purchase and one fulfilment',
    async (t) => {
      for (const recipient of [RECIPIENT.fulfils, RECIPIENT.late]) {
        const { user, walletId } = await api.fundedWallet(10_000)
        const key = randomUUID()
        const responses = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            untilFinal(
              () => (apis[i % 3] as Api).purchase(user, { walletId, productId: AIRTIME_10, recipient }, key),
              [503]
            )
          )
        )
        const ids = new Set(responses.map((response) => response.json().id))
        t.equal(
          ids.size,
          1,
          `${recipient}: every answer names the same purchase (${[...new Set(responses.map((r) => `${r.statusCode} ${r.json().code ?? r.json().status}`))].join(', ')})`
        )
        t.ok(
          responses.every((response) => [201, 202].includes(response.statusCode)),
          'completed or pending, nothing else'
        )
        const id = [...ids][0] as string
        t.equal(
          provider.fulfilCalls.filter((asked) => asked === id).length,
          1,
          'the provider was asked to fulfil it once'
        )
        await waitUntil(
          async () => (await statusOf(id)) === 'completed',
          'the purchase to complete',
          20_000,
          100
        )
        t.equal(provider.fulfilmentsOf(id), 1, 'one fulfilment')
        t.equal(await api.balance(user, walletId), 9000, 'paid once')
        t.same(await rows(sql`SELECT count(*)::int AS n FROM purchases WHERE idempotency_key = ${key}`), [
          { n: 1 }
        ])
      }
      await checkLedger(t, db)
    }
  )

  await t.test('double-spend storm: 40 concurrent purchases from a wallet that can pay for 10', async (t) => {
    const { user, walletId } = await api.fundedWallet(10 * 1000)
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const key = randomUUID()
        return untilFinal(
          () =>
            (apis[i % 3] as Api).purchase(
              user,
              { walletId, productId: AIRTIME_10, recipient: RECIPIENT.fulfils },
              key
            ),
          [503]
        )
      })
    )
    const outcomes = responses.map((response) =>
      response.statusCode === 201 ? 'completed' : response.json().code
    )
    t.equal(
      outcomes.filter((o) => o === 'completed').length,
      10,
      `exactly 10 are bought (${[...new Set(outcomes)].join(', ')})`
    )
    t.equal(outcomes.filter((o) => o === 'INSUFFICIENT_FUNDS').length, 30, 'the rest are INSUFFICIENT_FUNDS')
    t.equal(await api.balance(user, walletId), 0)
    await checkLedger(t, db)
  })

  await t.test('pending purchases are each settled once by the three settlers', async (t) => {
    const { user, walletId } = await api.fundedWallet(20 * 1000)
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        untilFinal(
          () =>
            (apis[i % 3] as Api).purchase(user, {
              walletId,
              productId: AIRTIME_10,
              recipient: RECIPIENT.droppedAfter
            }),
          [503]
        )
      )
    )
    t.ok(
      responses.every((response) => response.statusCode === 202),
      'all pending at first'
    )
    const ids = responses.map((response) => response.json().id as string)
    await waitUntil(
      async () =>
        (await rows(sql`SELECT count(*)::int AS n FROM purchases WHERE status = 'pending'`))[0]?.n === 0,
      'every purchase to settle',
      30_000,
      100
    )
    t.ok(
      ids.every((id) => provider.fulfilmentsOf(id) === 1),
      'one fulfilment each'
    )
    t.equal(await api.balance(user, walletId), 0)
    await checkLedger(t, db)
  })

  await t.test('a purchase whose lock another holder has is left to that holder', async (t) => {
    const { user, walletId } = await api.fundedWallet(1000)
    const response = await api.purchase(user, {
      walletId,
      productId: AIRTIME_10,
      recipient: RECIPIENT.droppedAfter
    })
    const id = response.json().id as string
    const held = await (apps[0] as (typeof apps)[number]).walletLock.acquire(`purchase:${id}`)
    await sleep(2500) // past the moment it becomes due (PROVIDER_TIMEOUT_MS + 1 s), several settler passes
    t.equal(provider.statusCalls.filter((asked) => asked === id).length, 0, 'no settler asked about it')
    t.equal(await statusOf(id), 'pending')
    await held.release()
    await waitUntil(
      async () => (await statusOf(id)) === 'completed',
      'a settler to complete it once free',
      20_000,
      100
    )
    await checkLedger(t, db)
  })

  await t.test(
    "an instance gone between the debit and the provider's answer: another instance's settler finishes the purchase",
    async (t) => {
      const { user, walletId } = await api.fundedWallet(5000)
      // Its provider timeout is long: while the request waits, the purchase is not due for the others.
      const doomed = await startApp(t, { ...env, PROVIDER_TIMEOUT_MS: '30000' }, { provider })
      const inFlight = new Api(doomed).purchase(user, {
        walletId,
        productId: AIRTIME_10,
        recipient: RECIPIENT.hangsAfter
      })
      await waitUntil(
        async () =>
          (await rows(sql`SELECT id FROM purchases WHERE recipient = ${RECIPIENT.hangsAfter}`)).length === 1,
        'the debit to be recorded'
      )
      const [{ id }] = (await rows(
        sql`SELECT id FROM purchases WHERE recipient = ${RECIPIENT.hangsAfter}`
      )) as [{ id: string }]
      await doomed.close()
      t.equal(await statusOf(id), 'pending', 'the instance went away before it learned the outcome')
      // The time the request would have waited has passed.
      await db.execute(sql`UPDATE purchases SET next_settle_at = now() WHERE id = ${id}`)
      await waitUntil(
        async () => (await statusOf(id)) === 'completed',
        'another instance to settle it',
        20_000,
        100
      )
      t.equal(provider.fulfilmentsOf(id), 1, 'fulfilled once')
      t.equal(await api.balance(user, walletId), 4000, 'paid once')
      provider.releaseHung()
      t.equal((await inFlight).statusCode, 202, 'the abandoned request ends without touching the ledger')
      await checkLedger(t, db)
    }
  )
})
