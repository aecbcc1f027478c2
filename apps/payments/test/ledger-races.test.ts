import { randomUUID } from 'node:crypto'
import { freshDatabase } from '@moolah/test-utils'
import { sql } from 'drizzle-orm'
import t from 'tap'
import type { Statement } from '../src/db/statement.js'
import { createTransfer } from '../src/ledger/transfers.js'
import { WalletDirectory } from '../src/ledger/wallet-directory.js'
import { Api } from './helpers/api.js'
import { startApp } from './helpers/app.js'
import { checkLedger } from './helpers/ledger-invariants.js'

// The database guarantees, exercised below the HTTP layer, without any Redis in front.
t.test('the ledger on its own', async (t) => {
  const app = await startApp(t, { DATABASE_URL: await freshDatabase(t) })
  const api = new Api(app)
  const db = app.database.db
  const alice = await api.createUser()
  const from = await api.createWallet(alice)
  const to = await api.createWallet(alice)
  t.equal((await api.deposit(from.id, 10_000)).statusCode, 201)
  const transfer = (key: string, fence?: number, amount = 100) =>
    createTransfer(app.database, {
      userId: alice.id,
      fromWalletId: from.id,
      toWalletId: to.id,
      amount,
      currency: 'ZAR',
      reference: null,
      idempotencyKey: key,
      fingerprint: `fp-${amount}`,
      fence
    })

  await t.test('twins racing with one key past the cache: one row, both get it', async (t) => {
    const key = randomUUID()
    const results = await Promise.all(Array.from({ length: 8 }, () => transfer(key)))
    t.equal(new Set(results.map((r) => r.id)).size, 1, 'every twin answers with the same transfer')
    t.equal(await api.balance(alice, from.id), 9_900, 'money moved once')
    await t.rejects(transfer(key, undefined, 101), { code: 'IDEMPOTENCY_KEY_REUSED', statusCode: 422 })
  })

  await t.test('fencing: a holder whose lock was superseded cannot write the wallet', async (t) => {
    const fence = Date.now() * 1000
    await transfer(randomUUID(), fence)
    await t.rejects(
      transfer(randomUUID(), fence - 1),
      { code: 'CONCURRENT_REQUEST', statusCode: 409 },
      'an older token is refused'
    )
    await t.rejects(
      transfer(randomUUID(), fence),
      { code: 'CONCURRENT_REQUEST' },
      'so is the same token twice'
    )
    await transfer(randomUUID(), fence + 1)
    t.equal(await api.balance(alice, from.id), 9_700, 'only the current holders moved money')
  })

  await t.test(
    'balances past 2^53 stay exact: the funding account after deposits of MAX, MAX and 1',
    async (t) => {
      const wallets = [
        await api.createWallet(alice, 'USD'),
        await api.createWallet(alice, 'USD'),
        await api.createWallet(alice, 'USD')
      ]
      for (const [i, amount] of [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 1].entries()) {
        t.equal((await api.deposit((wallets[i] as { id: string }).id, amount)).statusCode, 201)
      }
      const result = await db.execute(
        sql`SELECT balance::text AS balance FROM wallets WHERE kind = 'system' AND currency = 'USD'`
      )
      const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{
        balance: string
      }>
      t.same(
        rows,
        [{ balance: (-(2n * BigInt(Number.MAX_SAFE_INTEGER) + 1n)).toString() }],
        'exactly -(2 * MAX + 1)'
      )
    }
  )

  await t.test(
    'refusals below the HTTP layer: ids that are not ours, a wallet of someone else, a credit past MAX_SAFE_INTEGER',
    async (t) => {
      const bob = await api.createUser('Bob')
      const bobs = await api.createWallet(bob)
      const full = await api.createWallet(bob)
      t.equal((await api.deposit(full.id, Number.MAX_SAFE_INTEGER)).statusCode, 201)
      const attempt = (fromWalletId: string, toWalletId: string) =>
        createTransfer(app.database, {
          userId: alice.id,
          fromWalletId,
          toWalletId,
          amount: 1,
          currency: 'ZAR',
          reference: null,
          idempotencyKey: randomUUID(),
          fingerprint: 'fp',
          fence: undefined
        })
      await t.rejects(attempt('nope', to.id), { code: 'WALLET_NOT_FOUND' }, 'a source id that is no UUID')
      await t.rejects(
        attempt(from.id, 'nope'),
        { code: 'WALLET_NOT_FOUND' },
        'a destination id that is no UUID'
      )
      await t.rejects(attempt(bobs.id, to.id), { code: 'WALLET_NOT_FOUND' }, "the source is someone else's")
      await t.rejects(
        attempt(from.id, full.id),
        { code: 'AMOUNT_TOO_LARGE', statusCode: 422 },
        'the credited balance would pass MAX_SAFE_INTEGER'
      )
    }
  )

  await t.test(
    'the wallet directory: owner and currency cached, unknown ids not, the bound holds',
    async (t) => {
      let queries = 0
      const counted = {
        ...app.database,
        run: <Row>(statement: Statement<Row>, params: readonly unknown[]) => {
          queries++
          return app.database.run(statement, params)
        }
      }
      const directory = new WalletDirectory(counted, 1)
      t.same(await directory.facts(from.id), { ownerId: alice.id, currency: 'ZAR' })
      t.same(await directory.facts(from.id), { ownerId: alice.id, currency: 'ZAR' })
      t.equal(queries, 1, 'the second answer came from the cache')
      t.equal(await directory.facts('not-a-uuid'), undefined)
      t.equal(queries, 1, 'an id that is no UUID costs no query')
      t.equal(await directory.facts(randomUUID()), undefined)
      t.equal(await directory.facts(to.id).then((facts) => facts?.ownerId), alice.id)
      t.equal(await directory.facts(from.id).then((facts) => facts?.ownerId), alice.id)
      t.equal(
        queries,
        4,
        'an unknown id is asked each time, and with room for one the first wallet was evicted by the second'
      )
    }
  )

  await t.test('the ledger invariants hold', (t) => checkLedger(t, db))
})
