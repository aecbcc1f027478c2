import { randomUUID } from 'node:crypto'
import { freshDatabase, startRedis, waitUntil } from '@moolah/test-utils'
import t, { type Test } from 'tap'
import { Api } from './helpers/api.js'
import { startApp } from './helpers/app.js'
import { checkLedger } from './helpers/ledger-invariants.js'

t.test('Redis outages: money fails closed, catalogs stay up, everything recovers by itself', async (t) => {
  const redis = await startRedis(t)
  const app = await startApp(t, { DATABASE_URL: await freshDatabase(t), REDIS_URL: redis.url })
  const api = new Api(app)
  const alice = await api.createUser('Alice')
  const from = await api.createWallet(alice)
  const to = await api.createWallet(alice)
  t.equal((await api.deposit(from.id, 5_000)).statusCode, 201)
  t.equal(
    (await api.request({ method: 'GET', url: '/v1/catalog/flash' })).statusCode,
    200,
    'catalog warm before the outage'
  )

  const expectOutage = async (t: Test, label: string) => {
    const started = Date.now()
    const money = [
      await api.transfer(alice, { fromWalletId: from.id, toWalletId: to.id, amount: 100 }),
      await api.deposit(from.id, 100),
      await api.request({
        method: 'POST',
        url: '/v1/wallets',
        token: alice.apiKey,
        key: randomUUID(),
        payload: {}
      })
    ]
    for (const response of money) {
      t.equal(response.statusCode, 503, `${label}: money route fails closed`)
      t.equal(response.json().code, 'DEPENDENCY_UNAVAILABLE')
      t.ok(Number(response.headers['retry-after']) >= 1, 'with Retry-After')
    }
    t.ok(Date.now() - started < 3 * 1500, `${label}: each answer comes within its timeout`)
    const catalog = await api.request({ method: 'GET', url: '/v1/catalog/easypay' })
    t.equal(catalog.statusCode, 200, `${label}: a catalog is still served`)
    t.equal(
      (await api.request({ method: 'GET', url: `/v1/wallets/${from.id}`, token: alice.apiKey })).statusCode,
      200,
      `${label}: reads still work`
    )
    t.equal((await app.inject('/health/ready')).statusCode, 503, `${label}: not ready`)
  }

  const expectRecovery = async (t: Test) => {
    await waitUntil(async () => (await app.inject('/health/ready')).statusCode === 200, 'ready again')
    const key = randomUUID()
    const transfer = await api.transfer(alice, { fromWalletId: from.id, toWalletId: to.id, amount: 100 }, key)
    t.equal(transfer.statusCode, 201, 'transfers work again without a restart')
    const replay = await api.transfer(alice, { fromWalletId: from.id, toWalletId: to.id, amount: 100 }, key)
    t.equal(replay.headers['idempotent-replayed'], 'true', 'and idempotency too')
  }

  await t.test('Redis stopped', async (t) => {
    await redis.stop()
    await expectOutage(t, 'stopped')
    await redis.restart()
    await expectRecovery(t)
  })

  await t.test('Redis hung (SIGSTOP)', async (t) => {
    redis.pause()
    t.teardown(() => redis.resume())
    await expectOutage(t, 'paused')
    redis.resume()
    await expectRecovery(t)
  })

  await t.test('nothing was half-done', async (t) => {
    t.equal(await api.balance(alice, from.id), 5_000 - 200)
    t.equal(await api.balance(alice, to.id), 200)
    await checkLedger(t, app.database.db)
  })
})
