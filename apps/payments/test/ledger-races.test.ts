import { randomUUID } from 'node:crypto'
import { freshDatabase } from '@moolah/test-utils'
import t from 'tap'
import { createTransfer } from '../src/ledger/transfers.js'
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
  const transfer = (key: string, fences: Record<string, number> = {}, amount = 100) => createTransfer(db, {
    userId: alice.id, fromWalletId: from.id, toWalletId: to.id, amount, currency: 'ZAR', reference: null, idempotencyKey: key, fingerprint: `fp-${amount}`, fences
  })

  await t.test('twins racing with one key past the cache: one row, both get it', async (t) => {
    const key = randomUUID()
    const results = await Promise.all(Array.from({ length: 8 }, () => transfer(key)))
    t.equal(new Set(results.map((r) => r.id)).size, 1, 'every twin answers with the same transfer')
    t.equal(await api.balance(alice, from.id), 9_900, 'money moved once')
    await t.rejects(transfer(key, {}, 101), { code: 'IDEMPOTENCY_KEY_REUSED', statusCode: 422 })
  })

  await t.test('fencing: a holder whose lock was superseded cannot write the wallet', async (t) => {
    const fence = Date.now() * 1000
    await transfer(randomUUID(), { [from.id]: fence, [to.id]: fence })
    await t.rejects(transfer(randomUUID(), { [from.id]: fence - 1 }), { code: 'CONCURRENT_REQUEST', statusCode: 409 }, 'an older token is refused')
    await t.rejects(transfer(randomUUID(), { [to.id]: fence }), { code: 'CONCURRENT_REQUEST' }, 'so is the same token twice')
    await transfer(randomUUID(), { [from.id]: fence + 1, [to.id]: fence + 1 })
    t.equal(await api.balance(alice, from.id), 9_700, 'only the current holders moved money')
  })

  await t.test('the ledger invariants hold', (t) => checkLedger(t, db))
})
