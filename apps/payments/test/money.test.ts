import { randomUUID } from 'node:crypto'
import { freshDatabase, redisPrefix } from '@moolah/test-utils'
import { Redis } from 'ioredis'
import t from 'tap'
import { Api } from './helpers/api.js'
import { ADMIN_TOKEN, startApp } from './helpers/app.js'
import { checkLedger } from './helpers/ledger-invariants.js'

t.test('deposits and transfers on Postgres and Redis', async (t) => {
  const { prefix, url } = redisPrefix(t)
  const app = await startApp(t, {
    DATABASE_URL: await freshDatabase(t),
    REDIS_URL: url,
    REDIS_KEY_PREFIX: prefix
  })
  const api = new Api(app)
  const alice = await api.createUser('Alice')
  const bob = await api.createUser('Bob')
  const aliceZar = await api.createWallet(alice)
  const aliceUsd = await api.createWallet(alice, 'USD')
  const bobZar = await api.createWallet(bob)

  await t.test('a deposit funds the wallet from the system account', async (t) => {
    const response = await api.request({
      method: 'POST',
      url: '/v1/deposits',
      token: ADMIN_TOKEN,
      key: 'dep-1',
      payload: { walletId: aliceZar.id, amount: 10_000, reference: 'salary' }
    })
    t.equal(response.statusCode, 201)
    t.match(response.json(), {
      id: String,
      walletId: aliceZar.id,
      amount: 10_000,
      currency: 'ZAR',
      reference: 'salary',
      createdAt: /^\d{4}-\d\d-\d\dT/
    })
    t.equal(await api.balance(alice, aliceZar.id), 10_000)
  })

  await t.test('a transfer moves money and answers 201 with Location', async (t) => {
    const response = await api.transfer(
      alice,
      { fromWalletId: aliceZar.id, toWalletId: bobZar.id, amount: 2_550, reference: 'rent' },
      'tr-1'
    )
    t.equal(response.statusCode, 201)
    const transfer = response.json()
    t.match(transfer, {
      id: String,
      fromWalletId: aliceZar.id,
      toWalletId: bobZar.id,
      amount: 2_550,
      currency: 'ZAR',
      reference: 'rent',
      status: 'completed'
    })
    t.equal(response.headers.location, `/v1/transfers/${transfer.id}`)
    t.equal(await api.balance(alice, aliceZar.id), 7_450)
    t.equal(await api.balance(bob, bobZar.id), 2_550)

    const replay = await api.transfer(
      alice,
      { fromWalletId: aliceZar.id, toWalletId: bobZar.id, amount: 2_550, reference: 'rent' },
      'tr-1'
    )
    t.equal(replay.statusCode, 201)
    t.equal(replay.headers['idempotent-replayed'], 'true')
    t.equal(replay.headers.location, response.headers.location)
    t.equal(replay.body, response.body, 'byte-identical replay')
    t.equal(await api.balance(alice, aliceZar.id), 7_450, 'the replay moved nothing')

    const reused = await api.transfer(
      alice,
      { fromWalletId: aliceZar.id, toWalletId: bobZar.id, amount: 1 },
      'tr-1'
    )
    t.equal(reused.statusCode, 422)
    t.equal(reused.json().code, 'IDEMPOTENCY_KEY_REUSED')
  })

  await t.test('every transfer error of the contract, and none changes anything', async (t) => {
    const cases = [
      {
        name: 'insufficient funds',
        body: { fromWalletId: aliceZar.id, toWalletId: bobZar.id, amount: 1_000_000 },
        status: 422,
        code: 'INSUFFICIENT_FUNDS'
      },
      {
        name: 'same wallet',
        body: { fromWalletId: aliceZar.id, toWalletId: aliceZar.id, amount: 1 },
        status: 422,
        code: 'SAME_WALLET'
      },
      {
        name: 'currency differs from the wallets',
        body: { fromWalletId: aliceZar.id, toWalletId: bobZar.id, amount: 1, currency: 'USD' },
        status: 422,
        code: 'CURRENCY_MISMATCH'
      },
      {
        name: 'wallets of different currencies',
        body: { fromWalletId: aliceUsd.id, toWalletId: bobZar.id, amount: 1, currency: 'USD' },
        status: 422,
        code: 'CURRENCY_MISMATCH'
      },
      {
        name: 'unsupported currency',
        body: { fromWalletId: aliceZar.id, toWalletId: bobZar.id, amount: 1, currency: 'EUR' },
        status: 422,
        code: 'UNSUPPORTED_CURRENCY'
      },
      {
        name: 'source owned by someone else',
        body: { fromWalletId: bobZar.id, toWalletId: aliceZar.id, amount: 1 },
        status: 404,
        code: 'WALLET_NOT_FOUND'
      },
      {
        name: 'destination missing',
        body: { fromWalletId: aliceZar.id, toWalletId: randomUUID(), amount: 1 },
        status: 404,
        code: 'WALLET_NOT_FOUND'
      },
      {
        name: 'source missing',
        body: { fromWalletId: randomUUID(), toWalletId: bobZar.id, amount: 1 },
        status: 404,
        code: 'WALLET_NOT_FOUND'
      },
      {
        name: 'ids that are not ours',
        body: { fromWalletId: 'wallet-1', toWalletId: bobZar.id, amount: 1 },
        status: 404,
        code: 'WALLET_NOT_FOUND'
      }
    ]
    for (const { name, body, status, code } of cases) {
      const response = await api.transfer(alice, body)
      t.equal(response.statusCode, status, `${name}: status`)
      t.equal(response.json().code, code, `${name}: code`)
    }
    t.equal(await api.balance(alice, aliceZar.id), 7_450)
    t.equal(await api.balance(bob, bobZar.id), 2_550)
  })

  await t.test('a failed transfer releases its key: fix the cause and retry with the same key', async (t) => {
    const body = { fromWalletId: aliceZar.id, toWalletId: bobZar.id, amount: 20_000 }
    const first = await api.transfer(alice, body, 'retry-me')
    t.equal(first.json().code, 'INSUFFICIENT_FUNDS')
    t.equal((await api.deposit(aliceZar.id, 20_000)).statusCode, 201)
    const second = await api.transfer(alice, body, 'retry-me')
    t.equal(second.statusCode, 201)
    t.notOk(second.headers['idempotent-replayed'])
  })

  await t.test('deposit errors', async (t) => {
    t.equal((await api.deposit(randomUUID(), 1)).json().code, 'WALLET_NOT_FOUND')
    t.equal((await api.deposit('nope', 1)).json().code, 'WALLET_NOT_FOUND')
    const tooMuch = await api.deposit(aliceZar.id, Number.MAX_SAFE_INTEGER)
    t.equal(tooMuch.statusCode, 422)
    t.equal(tooMuch.json().code, 'AMOUNT_TOO_LARGE')
    const userKey = await api.request({
      method: 'POST',
      url: '/v1/deposits',
      token: alice.apiKey,
      key: randomUUID(),
      payload: { walletId: aliceZar.id, amount: 1 }
    })
    t.equal(userKey.statusCode, 403)
    t.equal(userKey.json().code, 'FORBIDDEN')
    const adminOnUserRoute = await api.request({
      method: 'POST',
      url: '/v1/transfers',
      token: ADMIN_TOKEN,
      key: randomUUID(),
      payload: { fromWalletId: aliceZar.id, toWalletId: bobZar.id, amount: 1, currency: 'ZAR' }
    })
    t.equal(adminOnUserRoute.statusCode, 403)
  })

  await t.test(
    'with the Redis record gone, a retry answers with the original transfer and moves nothing',
    async (t) => {
      const body = { fromWalletId: aliceZar.id, toWalletId: bobZar.id, amount: 100 }
      const first = await api.transfer(alice, body, 'flushed')
      t.equal(first.statusCode, 201)
      const before = await api.balance(alice, aliceZar.id)
      const redis = new Redis(url)
      t.teardown(() => redis.quit())
      const keys = await redis.keys(`${prefix}idempotency:*`)
      t.ok(keys.length > 0, 'the idempotency records live under the prefix')
      await redis.del(...keys)

      const retry = await api.transfer(alice, body, 'flushed')
      t.equal(retry.statusCode, 201)
      t.equal(retry.json().id, first.json().id, 'the same transfer')
      t.equal(await api.balance(alice, aliceZar.id), before)

      await redis.del(...(await redis.keys(`${prefix}idempotency:*`)))
      const reused = await api.transfer(alice, { ...body, amount: 101 }, 'flushed')
      t.equal(reused.statusCode, 422, 'a different request with the key is still refused by the database')
      t.equal(reused.json().code, 'IDEMPOTENCY_KEY_REUSED')

      const depositKey = randomUUID()
      const deposit = await api.deposit(aliceZar.id, 5, depositKey)
      await redis.del(...(await redis.keys(`${prefix}idempotency:*`)))
      const depositRetry = await api.deposit(aliceZar.id, 5, depositKey)
      t.equal(depositRetry.statusCode, 201)
      t.equal(depositRetry.json().id, deposit.json().id)
    }
  )

  await t.test('ids in upper case name the same wallets: one lock, one fence, one spelling', async (t) => {
    const before = await api.balance(alice, aliceZar.id)
    const response = await api.transfer(alice, {
      fromWalletId: aliceZar.id.toUpperCase(),
      toWalletId: bobZar.id.toUpperCase(),
      amount: 1
    })
    t.equal(response.statusCode, 201)
    t.match(
      response.json(),
      { fromWalletId: aliceZar.id, toWalletId: bobZar.id },
      'answered in the canonical spelling'
    )
    t.equal(await api.balance(alice, aliceZar.id), before - 1)
    const owned = await api.request({
      method: 'GET',
      url: `/v1/wallets/${aliceZar.id.toUpperCase()}`,
      token: alice.apiKey
    })
    t.equal(owned.statusCode, 200, 'an owned wallet is found by its upper-case id')
  })

  await t.test('the ledger invariants hold', (t) => checkLedger(t, app.database.db))
})
