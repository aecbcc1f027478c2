import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import { Redis } from 'ioredis'
import t from 'tap'
import { type Api, type TestUser, untilFinal } from './helpers/api.js'
import { startInstances } from './helpers/instances.js'
import { checkLedger } from './helpers/ledger-invariants.js'

const AMOUNT = 700

t.test('three instances sharing Postgres and Redis', async (t) => {
  const {
    apis,
    api,
    db,
    redis: { url, prefix }
  } = await startInstances(t, { RATE_LIMIT_TRANSFERS_MAX: '100000' })
  const count = async (query: ReturnType<typeof sql>) => {
    const result = await db.execute(query)
    return Number(
      ((Array.isArray(result) ? result : (result as { rows: unknown[] }).rows)[0] as { n: unknown }).n
    )
  }

  const fundedUser = async (amount: number): Promise<{ user: TestUser; walletId: string }> => {
    const user = await api.createUser()
    const wallet = await api.createWallet(user)
    if ((await api.deposit(wallet.id, amount)).statusCode !== 201) throw new Error('deposit failed')
    return { user, walletId: wallet.id }
  }

  await t.test(
    'double-spend storm: 300 concurrent transfers from a wallet that can pay for 100',
    async (t) => {
      const { user, walletId } = await fundedUser(100 * AMOUNT)
      const recipients = await Promise.all(
        [1, 2, 3].map(async () => (await api.createWallet(await api.createUser())).id)
      )
      const responses = await Promise.all(
        Array.from({ length: 300 }, (_, i) => {
          const key = randomUUID()
          const instance = apis[i % 3] as Api
          // A 503 (a store call past its deadline on a loaded machine) is retried with the same
          // key, as a client must: the exactly-100 count below still holds every answer to account.
          return untilFinal(
            () =>
              instance.transfer(
                user,
                { fromWalletId: walletId, toWalletId: recipients[i % 3] as string, amount: AMOUNT },
                key
              ),
            [503]
          )
        })
      )
      const outcomes = responses.map((response) =>
        response.statusCode === 201 ? 'created' : response.json().code
      )
      t.equal(outcomes.filter((o) => o === 'created').length, 100, 'exactly 100 succeed')
      t.equal(
        outcomes.filter((o) => o === 'INSUFFICIENT_FUNDS').length,
        200,
        `the rest are INSUFFICIENT_FUNDS (${[...new Set(outcomes)].join(', ')})`
      )
      t.equal(await api.balance(user, walletId), 0, 'the final balance is 0')
      await checkLedger(t, db)
    }
  )

  await t.test(
    'duplicate storm: one key sent 50 times at once across instances moves money once',
    async (t) => {
      const { user, walletId } = await fundedUser(10 * AMOUNT)
      const to = (await api.createWallet(await api.createUser())).id
      const key = randomUUID()
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (apis[i % 3] as Api).transfer(user, { fromWalletId: walletId, toWalletId: to, amount: AMOUNT }, key)
        )
      )
      const created = responses.filter((r) => r.statusCode === 201)
      t.ok(created.length >= 1, 'someone got the transfer')
      t.equal(new Set(created.map((r) => r.json().id)).size, 1, 'every 201 is the same transfer')
      t.ok(
        responses.every(
          (r) =>
            r.statusCode === 201 ||
            (r.statusCode === 409 && ['IDEMPOTENCY_KEY_IN_USE', 'CONCURRENT_REQUEST'].includes(r.json().code))
        ),
        'the rest are 409s'
      )
      t.equal(
        await count(sql`SELECT count(*) AS n FROM transfers WHERE idempotency_key = ${key}`),
        1,
        'exactly one transfer row'
      )
      t.equal(await api.balance(user, walletId), 9 * AMOUNT)

      const settled = await untilFinal(() =>
        api.transfer(user, { fromWalletId: walletId, toWalletId: to, amount: AMOUNT }, key)
      )
      t.equal(settled.json().id, created[0]?.json().id, 'a later retry replays it')
      await checkLedger(t, db)
    }
  )

  await t.test(
    'locks lost mid-flight (keys deleted, as in a failover): the row locks still hold the line',
    async (t) => {
      const a = await fundedUser(50 * AMOUNT)
      const b = await fundedUser(50 * AMOUNT)
      const redis = new Redis(url)
      t.teardown(() => redis.quit())
      let storming = true
      const vandal = (async () => {
        while (storming) {
          const keys = await redis.keys(`${prefix}wallet-lock:*`)
          if (keys.length > 0) await redis.unlink(...keys)
          await sleep(1)
        }
      })()
      // Opposite directions at once, each side trying to spend far more than it has.
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) => {
          const [from, to] = i % 2 === 0 ? [a, b] : [b, a]
          const key = randomUUID()
          return untilFinal(
            () =>
              (apis[i % 3] as Api).transfer(
                from.user,
                { fromWalletId: from.walletId, toWalletId: to.walletId, amount: AMOUNT },
                key
              ),
            [503]
          )
        })
      )
      storming = false
      await vandal
      t.ok(
        responses.every((r) => r.statusCode === 201 || r.json().code === 'INSUFFICIENT_FUNDS'),
        `every answer is a transfer or INSUFFICIENT_FUNDS (${[...new Set(responses.map((r) => `${r.statusCode} ${r.json().code ?? ''}`))].join(', ')})`
      )
      const balanceA = await api.balance(a.user, a.walletId)
      const balanceB = await api.balance(b.user, b.walletId)
      t.ok(balanceA >= 0 && balanceB >= 0, 'no overdraft')
      t.equal(balanceA + balanceB, 100 * AMOUNT, 'no money created or destroyed')
      await checkLedger(t, db)
    }
  )
})
