import { waitUntil } from '@moolah/test-utils'
import t from 'tap'
import { Api } from './helpers/api.js'
import { Sandbox } from '../src/purchases/sandbox.js'
import { startApp, tempDataDir } from './helpers/app.js'
import { sandboxServer } from './helpers/providers.js'
import { checkLedger } from './helpers/ledger-invariants.js'
import { RECIPIENT, ScriptableProvider } from './helpers/scriptable-provider.js'

const AIRTIME_10 = 'flash-vodacom-airtime-10'

t.test('embedded mode (PGlite, in-process stores): purchases and their settler', async (t) => {
  const provider = new ScriptableProvider(200)
  const app = await startApp(
    t,
    { DATA_DIR: await tempDataDir(t), PROVIDER_TIMEOUT_MS: '100', PURCHASE_SETTLE_MAX_SECONDS: '1' },
    { provider }
  )
  const api = new Api(app)
  const { user, walletId } = await api.fundedWallet(5000)

  const bought = await api.purchase(user, { walletId, productId: AIRTIME_10, recipient: RECIPIENT.fulfils })
  t.equal(bought.statusCode, 201, bought.body)
  const late = await api.purchase(user, { walletId, productId: AIRTIME_10, recipient: RECIPIENT.late })
  const lost = await api.purchase(user, {
    walletId,
    productId: AIRTIME_10,
    recipient: RECIPIENT.neverReached
  })
  t.equal(late.statusCode, 202)
  t.equal(lost.statusCode, 202)
  const statusOf = async (id: string) =>
    (await api.request({ method: 'GET', url: `/v1/purchases/${id}`, token: user.apiKey })).json().status
  await waitUntil(
    async () =>
      (await statusOf(late.json().id)) === 'completed' && (await statusOf(lost.json().id)) === 'failed',
    'both to settle',
    20_000,
    100
  )
  t.equal(await api.balance(user, walletId), 3000, 'two bought, one refunded')
  await checkLedger(t, app.database.db)
  t.equal(provider.closed, 0, 'a provider given to the app is closed by its owner')
})

t.test('without a provider option: the sandbox in process, fulfilling at once', async (t) => {
  const app = await startApp(t, { DATA_DIR: await tempDataDir(t) })
  const api = new Api(app)
  const { user, walletId } = await api.fundedWallet(5000)
  const response = await api.purchase(user, { walletId, productId: AIRTIME_10, recipient: RECIPIENT.fulfils })
  t.equal(response.statusCode, 201, response.body)
  t.match(response.json(), { status: 'completed', fulfilment: Object })
  const declined = await api.purchase(user, {
    walletId,
    productId: AIRTIME_10,
    recipient: RECIPIENT.declined
  })
  t.equal(declined.json().code, 'PURCHASE_FAILED')
  t.equal(await api.balance(user, walletId), 4000)
  await checkLedger(t, app.database.db)
})

t.test('with PROVIDER_URL: the HTTP client of the sandbox protocol', async (t) => {
  const server = await sandboxServer(t, new Sandbox({ delayMs: 100 }))
  const app = await startApp(t, { DATA_DIR: await tempDataDir(t), PROVIDER_URL: server.url })
  const api = new Api(app)
  const { user, walletId } = await api.fundedWallet(5000)
  const response = await api.purchase(user, { walletId, productId: AIRTIME_10, recipient: RECIPIENT.fulfils })
  t.equal(response.statusCode, 201, response.body)
})

t.test(
  'shutdown stops the settler mid-question: the provider call is aborted, nothing more is asked',
  async (t) => {
    const provider = new ScriptableProvider()
    const app = await startApp(
      t,
      { DATA_DIR: await tempDataDir(t), PROVIDER_TIMEOUT_MS: '100', PURCHASE_SETTLE_MAX_SECONDS: '600' },
      { provider }
    )
    const api = new Api(app)
    const { user, walletId } = await api.fundedWallet(5000)
    provider.statusHangs = true
    const ids: string[] = []
    for (let i = 0; i < 2; i++)
      ids.push(
        (
          await api.purchase(user, { walletId, productId: AIRTIME_10, recipient: RECIPIENT.neverReached })
        ).json().id
      )
    await waitUntil(
      () => provider.statusCalls.length > 0,
      'the settler to ask about the first purchase',
      20_000
    )
    await app.close()
    t.same(provider.statusCalls, [ids[0]], 'the second purchase was not asked about after the stop')
  }
)
