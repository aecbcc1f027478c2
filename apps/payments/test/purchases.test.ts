import { randomUUID } from 'node:crypto'
import { freshDatabase, redisPrefix, waitUntil } from '@moolah/test-utils'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { saveCatalogVersion } from '../src/catalogs/catalog-store.js'
import { readFeed } from '../src/catalogs/feed.js'
import { Api, type TestUser } from './helpers/api.js'
import { startApp } from './helpers/app.js'
import { checkLedger } from './helpers/ledger-invariants.js'
import { RECIPIENT, ScriptableProvider } from './helpers/scriptable-provider.js'

const AIRTIME_10 = 'flash-vodacom-airtime-10'
const AIRTIME_ANY = 'flash-vodacom-airtime-any'

t.test('purchases on one instance (Postgres and Redis)', async (t) => {
  const { prefix, url } = redisPrefix(t)
  const provider = new ScriptableProvider(300)
  const app: FastifyInstance = await startApp(
    t,
    {
      DATABASE_URL: await freshDatabase(t),
      REDIS_URL: url,
      REDIS_KEY_PREFIX: prefix,
      PROVIDER_TIMEOUT_MS: '150',
      PURCHASE_SETTLE_MAX_SECONDS: '2',
      RATE_LIMIT_MAX: '100000'
    },
    { provider }
  )
  const api = new Api(app)
  const db = app.database.db

  const getPurchase = async (user: TestUser, id: string) =>
    (await api.request({ method: 'GET', url: `/v1/purchases/${id}`, token: user.apiKey })).json()
  const settled = async (user: TestUser, id: string) => {
    await waitUntil(
      async () => (await getPurchase(user, id)).status !== 'pending',
      `purchase ${id} to settle`,
      20_000,
      100
    )
    return getPurchase(user, id)
  }

  await t.test(
    'fulfilled at once: 201 completed with its fulfilment, the catalog version, and the money with the settlement account',
    async (t) => {
      const { user, walletId } = await api.fundedWallet(5000)
      const response = await api.purchase(user, {
        walletId,
        productId: AIRTIME_10,
        recipient: RECIPIENT.fulfils,
        reference: 'for mom'
      })
      t.equal(response.statusCode, 201, response.body)
      const purchase = response.json()
      t.match(purchase, {
        walletId,
        provider: 'flash',
        productId: AIRTIME_10,
        catalogVersion: '2026-11-20.1',
        amount: 1000,
        currency: 'ZAR',
        recipient: RECIPIENT.fulfils,
        reference: 'for mom',
        status: 'completed',
        fulfilment: { pin: String, serial: String },
        failureCode: null,
        settledAt: String
      })
      t.equal(response.headers.location, `/v1/purchases/${purchase.id}`)
      t.same(await getPurchase(user, purchase.id), purchase, 'GET answers the same purchase')
      t.equal(await api.balance(user, walletId), 4000)
      t.equal(provider.fulfilmentsOf(purchase.id), 1)

      const history = (
        await api.request({ method: 'GET', url: `/v1/wallets/${walletId}/transactions`, token: user.apiKey })
      ).json()
      t.match(history.items[0], {
        kind: 'purchase',
        direction: 'debit',
        amount: 1000,
        balanceAfter: 4000,
        purchaseId: purchase.id,
        transferId: null,
        depositId: null,
        counterpartyWalletId: null,
        reference: 'for mom'
      })

      const replay = await api.purchase(
        user,
        { walletId, productId: AIRTIME_10, recipient: RECIPIENT.fulfils, reference: 'for mom' },
        'same-key'
      )
      const again = await api.purchase(
        user,
        { walletId, productId: AIRTIME_10, recipient: RECIPIENT.fulfils, reference: 'for mom' },
        'same-key'
      )
      t.equal(replay.statusCode, 201)
      t.equal(again.statusCode, 201)
      t.equal(
        again.headers['idempotent-replayed'],
        'true',
        'a completed purchase is replayed from the idempotency record'
      )
      t.equal(again.json().id, replay.json().id)
      await checkLedger(t, db)
    }
  )

  await t.test(
    'a ranged product takes an amount inside its range; electricity goes to a meter',
    async (t) => {
      const { user, walletId } = await api.fundedWallet(10_000)
      const airtime = await api.purchase(user, {
        walletId,
        productId: AIRTIME_ANY,
        amount: 1234,
        recipient: RECIPIENT.fulfils
      })
      t.equal(airtime.statusCode, 201, airtime.body)
      t.equal(airtime.json().amount, 1234)
      const power = await api.purchase(user, {
        walletId,
        provider: 'easypay',
        productId: 'easypay-electricity-city-of-johannesburg',
        amount: 2000,
        recipient: '01234567890'
      })
      t.equal(power.statusCode, 201, power.body)
      t.match(power.json(), { provider: 'easypay', recipient: '01234567890', status: 'completed' })
      const voucher = await api.purchase(user, { walletId, productId: 'flash-1voucher-50' })
      t.equal(voucher.statusCode, 201, voucher.body)
      t.match(voucher.json(), { recipient: null, status: 'completed' })
      t.equal(await api.balance(user, walletId), 10_000 - 1234 - 2000 - voucher.json().amount)
      await checkLedger(t, db)
    }
  )

  await t.test(
    'declined, or failed for certain: 422 PURCHASE_FAILED with the purchase id, refunded in its own movement',
    async (t) => {
      for (const [recipient, failureCode] of [
        [RECIPIENT.declined, 'DECLINED'],
        [RECIPIENT.fails, 'PROVIDER_ERROR']
      ] as const) {
        const { user, walletId } = await api.fundedWallet(5000)
        const key = randomUUID()
        const response = await api.purchase(user, { walletId, productId: AIRTIME_10, recipient }, key)
        t.equal(response.statusCode, 422, response.body)
        t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8')
        const problem = response.json()
        t.match(problem, { code: 'PURCHASE_FAILED', status: 422, purchaseId: String, failureCode })
        t.match(await getPurchase(user, problem.purchaseId), {
          status: 'failed',
          failureCode,
          fulfilment: null,
          settledAt: String
        })
        t.equal(await api.balance(user, walletId), 5000, 'the money is back')
        const history = (
          await api.request({
            method: 'GET',
            url: `/v1/wallets/${walletId}/transactions`,
            token: user.apiKey
          })
        ).json()
        t.match(history.items.slice(0, 2), [
          {
            kind: 'refund',
            direction: 'credit',
            amount: 1000,
            balanceAfter: 5000,
            purchaseId: problem.purchaseId
          },
          {
            kind: 'purchase',
            direction: 'debit',
            amount: 1000,
            balanceAfter: 4000,
            purchaseId: problem.purchaseId
          }
        ])
        const retry = await api.purchase(user, { walletId, productId: AIRTIME_10, recipient }, key)
        t.equal(retry.statusCode, 422, 'a retry answers the failed purchase')
        t.same(retry.json().purchaseId, problem.purchaseId)
        t.equal(
          provider.fulfilCalls.filter((id) => id === problem.purchaseId).length,
          1,
          'the retry did not ask the provider again'
        )
        t.equal(await api.balance(user, walletId), 5000, 'and refunds nothing twice')
      }
      await checkLedger(t, db)
    }
  )

  await t.test(
    'late success: 202 pending, then completed by the settler; a retry answers the current state',
    async (t) => {
      const { user, walletId } = await api.fundedWallet(5000)
      const key = randomUUID()
      const response = await api.purchase(
        user,
        { walletId, productId: AIRTIME_10, recipient: RECIPIENT.late },
        key
      )
      t.equal(response.statusCode, 202, response.body)
      const pending = response.json()
      t.match(pending, { status: 'pending', fulfilment: null, failureCode: null, settledAt: null })
      t.equal(response.headers.location, `/v1/purchases/${pending.id}`)
      t.equal(await api.balance(user, walletId), 4000, 'the money waits in the settlement account')
      const early = await api.purchase(
        user,
        { walletId, productId: AIRTIME_10, recipient: RECIPIENT.late },
        key
      )
      t.equal(early.statusCode, 202, 'a retry while pending answers pending')
      t.equal(early.json().id, pending.id)
      t.match(await settled(user, pending.id), { status: 'completed', fulfilment: { pin: String } })
      const later = await api.purchase(
        user,
        { walletId, productId: AIRTIME_10, recipient: RECIPIENT.late },
        key
      )
      t.equal(later.statusCode, 201, 'a retry after settlement answers completed')
      t.equal(later.json().id, pending.id)
      t.equal(provider.fulfilmentsOf(pending.id), 1)
      t.equal(await api.balance(user, walletId), 4000)
      await checkLedger(t, db)
    }
  )

  await t.test('dropped after fulfilment: 202 pending, then completed', async (t) => {
    const { user, walletId } = await api.fundedWallet(5000)
    const response = await api.purchase(user, {
      walletId,
      productId: AIRTIME_10,
      recipient: RECIPIENT.droppedAfter
    })
    t.equal(response.statusCode, 202, response.body)
    t.match(await settled(user, response.json().id), { status: 'completed' })
    t.equal(provider.fulfilmentsOf(response.json().id), 1)
    t.equal(await api.balance(user, walletId), 4000)
    await checkLedger(t, db)
  })

  await t.test(
    'never reached: 202 pending, failed and refunded only past PURCHASE_SETTLE_MAX_SECONDS',
    async (t) => {
      const { user, walletId } = await api.fundedWallet(5000)
      const response = await api.purchase(user, {
        walletId,
        productId: AIRTIME_10,
        recipient: RECIPIENT.neverReached
      })
      t.equal(response.statusCode, 202, response.body)
      const id = response.json().id
      const final = await settled(user, id)
      t.match(final, { status: 'failed', failureCode: 'PROVIDER_NEVER_RECEIVED', fulfilment: null })
      t.ok(Date.parse(final.settledAt) - Date.parse(final.createdAt) >= 2000, 'not before the deadline')
      t.ok(
        provider.statusCalls.filter((asked) => asked === id).length >= 2,
        'the settler asked more than once before it'
      )
      t.equal(provider.fulfilmentsOf(id), 0)
      t.equal(await api.balance(user, walletId), 5000)
      await checkLedger(t, db)
    }
  )

  await t.test(
    'a provider that cannot be asked keeps the purchase pending, even past the deadline',
    async (t) => {
      const { user, walletId } = await api.fundedWallet(5000)
      provider.unreachable = true
      const response = await api.purchase(user, {
        walletId,
        productId: AIRTIME_10,
        recipient: RECIPIENT.droppedAfter
      })
      t.equal(response.statusCode, 202)
      const id = response.json().id
      await waitUntil(
        () => provider.statusCalls.filter((asked) => asked === id).length >= 3,
        'the settler to ask three times',
        20_000,
        100
      )
      t.equal((await getPurchase(user, id)).status, 'pending', 'nothing is decided without the provider')
      provider.unreachable = false
      t.match(await settled(user, id), { status: 'completed' })
      await checkLedger(t, db)
    }
  )

  await t.test(
    'an answer the ledger cannot record leaves the purchase pending, with its money held',
    async (t) => {
      const { user, walletId } = await api.fundedWallet(5000)
      const response = await api.purchase(user, {
        walletId,
        productId: AIRTIME_10,
        recipient: RECIPIENT.malformed
      })
      t.equal(response.statusCode, 202, 'the outcome is not recorded: pending')
      const id = response.json().id
      await waitUntil(
        () => provider.statusCalls.filter((asked) => asked === id).length >= 2,
        'the settler to try twice',
        20_000,
        100
      )
      t.equal((await getPurchase(user, id)).status, 'pending')
      t.equal(await api.balance(user, walletId), 4000)
      await checkLedger(t, db)
    }
  )

  await t.test('refusals before recording release the key and record nothing', async (t) => {
    const { user, walletId } = await api.fundedWallet(500)
    const usd = await api.createWallet(user, 'USD')
    const key = randomUUID()
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ productId: 'no-such-product' }, 404, 'PRODUCT_NOT_FOUND'],
      [{ productId: AIRTIME_10, amount: 999, recipient: RECIPIENT.fulfils }, 422, 'INVALID_AMOUNT'],
      [{ productId: AIRTIME_ANY, recipient: RECIPIENT.fulfils }, 422, 'INVALID_AMOUNT'],
      [{ productId: AIRTIME_ANY, amount: 100, recipient: RECIPIENT.fulfils }, 422, 'INVALID_AMOUNT'],
      [{ productId: AIRTIME_10 }, 422, 'INVALID_RECIPIENT'],
      [{ productId: AIRTIME_10, recipient: '0821234567' }, 422, 'INVALID_RECIPIENT'],
      [
        {
          provider: 'easypay',
          productId: 'easypay-electricity-city-of-johannesburg',
          amount: 2000,
          recipient: '+27821234567'
        },
        422,
        'INVALID_RECIPIENT'
      ],
      [{ productId: 'flash-1voucher-50', recipient: 'me' }, 422, 'INVALID_RECIPIENT'],
      [{ walletId: usd.id, productId: AIRTIME_10, recipient: RECIPIENT.fulfils }, 422, 'CURRENCY_MISMATCH'],
      [{ productId: AIRTIME_10, recipient: RECIPIENT.fulfils }, 422, 'INSUFFICIENT_FUNDS'],
      [
        { walletId: randomUUID(), productId: AIRTIME_10, recipient: RECIPIENT.fulfils },
        404,
        'WALLET_NOT_FOUND'
      ],
      [{ provider: 'acme', productId: AIRTIME_10 }, 400, 'VALIDATION_ERROR']
    ]
    for (const [body, status, code] of cases) {
      const response = await api.request({
        method: 'POST',
        url: '/v1/purchases',
        token: user.apiKey,
        key,
        payload: { walletId, provider: 'flash', ...body }
      })
      t.equal(response.statusCode, status, `${code}: ${response.body}`)
      t.equal(response.json().code, code)
    }
    t.equal(await api.balance(user, walletId), 500, 'nothing moved')
    t.equal((await api.deposit(walletId, 1000)).statusCode, 201)
    const fixed = await api.purchase(
      user,
      { walletId, productId: AIRTIME_10, recipient: RECIPIENT.fulfils },
      key
    )
    t.equal(fixed.statusCode, 201, 'the key was released by every refusal')
    await checkLedger(t, db)
  })

  await t.test('a purchase is visible to its owner only', async (t) => {
    const { user, walletId } = await api.fundedWallet(5000)
    const stranger = await api.createUser('Sipho')
    const id = (
      await api.purchase(user, { walletId, productId: AIRTIME_10, recipient: RECIPIENT.fulfils })
    ).json().id
    for (const [who, path] of [
      [stranger, id],
      [user, randomUUID()],
      [user, 'not-an-id']
    ] as const) {
      const response = await api.request({ method: 'GET', url: `/v1/purchases/${path}`, token: who.apiKey })
      t.equal(response.statusCode, 404)
      t.equal(response.json().code, 'PURCHASE_NOT_FOUND')
    }
    const theirs = await api.purchase(stranger, {
      walletId,
      productId: AIRTIME_10,
      recipient: RECIPIENT.fulfils
    })
    t.equal(theirs.json().code, 'WALLET_NOT_FOUND', 'nobody pays from a wallet that is not theirs')
  })

  await t.test(
    'a catalog refresh between two purchases: each records the version it was priced at',
    async (t) => {
      const { user, walletId } = await api.fundedWallet(5000)
      const before = (
        await api.purchase(user, { walletId, productId: AIRTIME_10, recipient: RECIPIENT.fulfils })
      ).json()
      // What POST /v1/catalog/flash/refresh does with a new feed: store a version, reload the cache.
      await saveCatalogVersion(db, { ...(await readFeed('flash')), version: '2026-12-01.1' })
      await app.catalogCache.refresh('flash')
      const after = (
        await api.purchase(user, { walletId, productId: AIRTIME_10, recipient: RECIPIENT.fulfils })
      ).json()
      t.equal(before.catalogVersion, '2026-11-20.1')
      t.equal(after.catalogVersion, '2026-12-01.1')
    }
  )

  await t.test(
    'once recorded, a purchase stays the answer for its key when the catalog changes under a retry',
    async (t) => {
      const { user, walletId } = await api.fundedWallet(5000)
      const body = { walletId, productId: AIRTIME_10, amount: 1000, recipient: RECIPIENT.declined }
      const first = await api.purchase(user, body, 'price-change')
      t.equal(first.json().code, 'PURCHASE_FAILED')
      const feed = await readFeed('flash')
      await saveCatalogVersion(db, {
        ...feed,
        version: '2026-12-02.1',
        products: feed.products.map((p) => (p.id === AIRTIME_10 ? { ...p, amount: 1100 } : p))
      })
      await app.catalogCache.refresh('flash')
      const retry = await api.purchase(user, body, 'price-change')
      t.equal(retry.statusCode, 422)
      t.match(
        retry.json(),
        { code: 'PURCHASE_FAILED', purchaseId: first.json().purchaseId },
        'not INVALID_AMOUNT: the recorded purchase answers'
      )
      const reused = await api.purchase(user, { ...body, reference: 'other' }, 'price-change')
      t.equal(
        reused.json().code,
        'IDEMPOTENCY_KEY_REUSED',
        'a different request with the key is still refused'
      )
      t.equal((await api.purchase(user, body)).json().code, 'INVALID_AMOUNT', 'a new key meets the new price')
    }
  )
})

t.test(
  'past PURCHASE_SETTLE_MAX_SECONDS a purchase the provider still processes stays pending until it answers',
  async (t) => {
    const { prefix, url } = redisPrefix(t)
    // The provider answers after 3.5 s; the deadline is 1 s and the settler's first look ≈ 1.15 s.
    const provider = new ScriptableProvider(3500)
    const app = await startApp(
      t,
      {
        DATABASE_URL: await freshDatabase(t),
        REDIS_URL: url,
        REDIS_KEY_PREFIX: prefix,
        PROVIDER_TIMEOUT_MS: '150',
        PURCHASE_SETTLE_MAX_SECONDS: '1'
      },
      { provider }
    )
    const api = new Api(app)
    const { user, walletId } = await api.fundedWallet(5000)
    const response = await api.purchase(user, { walletId, productId: AIRTIME_10, recipient: RECIPIENT.late })
    t.equal(response.statusCode, 202, response.body)
    const id = response.json().id
    const get = async () =>
      (await api.request({ method: 'GET', url: `/v1/purchases/${id}`, token: user.apiKey })).json()
    await waitUntil(
      () => provider.statusCalls.includes(id),
      'the settler to ask about the purchase',
      20_000,
      50
    )
    t.equal(
      (await get()).status,
      'pending',
      '"processing" past the deadline is not "never fulfilled": nothing is refunded'
    )
    await waitUntil(async () => (await get()).status !== 'pending', 'the purchase to settle', 20_000, 100)
    t.match(await get(), { status: 'completed', fulfilment: { pin: String } })
    t.equal(provider.fulfilmentsOf(id), 1)
    t.equal(await api.balance(user, walletId), 4000)
    await checkLedger(t, app.database.db)
  }
)
