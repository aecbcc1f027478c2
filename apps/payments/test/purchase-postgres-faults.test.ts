import { setTimeout as sleep } from 'node:timers/promises'
import { redisPrefix, startPostgres, waitUntil } from '@moolah/test-utils'
import t from 'tap'
import { Api } from './helpers/api.js'
import { startApp } from './helpers/app.js'
import { checkLedger } from './helpers/ledger-invariants.js'
import { RECIPIENT, ScriptableProvider } from './helpers/scriptable-provider.js'

t.test(
  'Postgres hung after the provider fulfilled: 202 pending, and the settler completes it once Postgres is back',
  async (t) => {
    const pg = await startPostgres(t)
    const { prefix, url } = redisPrefix(t)
    const provider = new ScriptableProvider()
    const app = await startApp(
      t,
      { DATABASE_URL: pg.url, REDIS_URL: url, REDIS_KEY_PREFIX: prefix, PROVIDER_TIMEOUT_MS: '500' },
      { provider }
    )
    const api = new Api(app)
    const { user, walletId } = await api.fundedWallet(5000)

    // The provider fulfils, and Postgres hangs before the outcome is recorded: the request cannot
    // record it (2.5 s deadline), and the settler cannot read its work meanwhile.
    provider.beforeAnswer = async (call) => {
      provider.beforeAnswer = undefined
      t.equal(call, 'fulfil')
      await pg.pause()
    }
    const response = await api.purchase(user, {
      walletId,
      productId: 'flash-vodacom-airtime-10',
      recipient: RECIPIENT.fulfils
    })
    t.equal(response.statusCode, 202, 'known to the provider, not recorded: pending')
    const id = response.json().id
    // Once more when the settler asks: it learns the outcome and cannot record it either.
    provider.beforeAnswer = async () => {
      provider.beforeAnswer = undefined
      await pg.pause()
      setTimeout(() => {
        void pg.resume()
      }, 3000)
    }
    // Longer than a query's 2.5 s deadline: a settler pass that started during the hang gives up on it.
    await sleep(3000)
    await pg.resume()
    await waitUntil(
      async () =>
        (await api.request({ method: 'GET', url: `/v1/purchases/${id}`, token: user.apiKey })).json()
          .status === 'completed',
      'the settler to complete it',
      30_000,
      200
    )
    t.equal(provider.fulfilmentsOf(id), 1)
    t.equal(await api.balance(user, walletId), 4000)
    await checkLedger(t, app.database.db)
  }
)
