import { randomUUID } from 'node:crypto'
import { freshDatabase } from '@moolah/test-utils'
import t from 'tap'
import { recordPurchase, settlePurchase, type RecordPurchase } from '../src/purchases/purchase-ledger.js'
import { Api } from './helpers/api.js'
import { startApp } from './helpers/app.js'
import { checkLedger } from './helpers/ledger-invariants.js'
import { ScriptableProvider } from './helpers/scriptable-provider.js'

// post_purchase() and settle_purchase() below the HTTP layer: the checks the route makes first
// are backed by the database, and settling is first-writer-wins.
t.test('the purchase ledger on its own', async (t) => {
  const app = await startApp(
    t,
    { DATABASE_URL: await freshDatabase(t) },
    { provider: new ScriptableProvider() }
  )
  const api = new Api(app)
  const alice = await api.createUser()
  const wallet = await api.createWallet(alice)
  t.equal((await api.deposit(wallet.id, 10_000)).statusCode, 201)
  const record = (overrides: Partial<RecordPurchase> = {}) =>
    recordPurchase(app.database, {
      userId: alice.id,
      walletId: wallet.id,
      provider: 'flash',
      productId: 'flash-vodacom-airtime-10',
      catalogVersion: 'v1',
      amount: 1000,
      currency: 'ZAR',
      recipient: '+27821234567',
      reference: null,
      idempotencyKey: randomUUID(),
      fingerprint: 'fp',
      fence: undefined,
      settleAfterMs: 60_000,
      ...overrides
    })

  await t.rejects(
    record({ userId: (await api.createUser()).id }),
    { code: 'WALLET_NOT_FOUND' },
    'only the owner pays'
  )
  await t.rejects(record({ currency: 'USD' }), { code: 'CURRENCY_MISMATCH' }, "in the wallet's currency")
  const fence = Date.now() * 1000
  await record({ fence })
  await t.rejects(
    record({ fence: fence - 1 }),
    { code: 'CONCURRENT_REQUEST', statusCode: 409 },
    'a stale lock holder is refused'
  )

  const { purchase } = await record()
  t.match(await settlePurchase(app.database, purchase.id, { status: 'failed', failureCode: 'DECLINED' }), {
    status: 'failed',
    failureCode: 'DECLINED'
  })
  t.match(
    await settlePurchase(app.database, purchase.id, { status: 'failed', failureCode: 'DECLINED' }),
    { status: 'failed' },
    'settling twice refunds once'
  )
  t.match(
    await settlePurchase(app.database, purchase.id, { status: 'fulfilled', fulfilment: { pin: '1' } }),
    { status: 'failed', fulfilment: null },
    'the first settlement stays'
  )
  t.equal(await api.balance(alice, wallet.id), 9000, 'one purchase pending, the other refunded')
  await checkLedger(t, app.database.db)
})
