import t from 'tap'
import { loadConfig } from '../src/config.js'
import { welcomeText } from '../src/welcome.js'

const demo = { apiKey: 'mk_demo', fromWalletId: 'w-from', toWalletId: 'w-to' }

t.test(
  'embedded defaults: says single instance only, that the token was generated, and how to try it',
  async (t) => {
    const config = loadConfig({})
    const text = welcomeText(config, 'http://127.0.0.1:3000', demo)
    t.match(text, 'running at http://127.0.0.1:3000 (embedded mode)')
    t.match(text, 'stores: in-process (single instance only)')
    t.match(text, `admin token: ${config.adminToken}   (generated for this run`)
    t.match(text, 'demo user API key: mk_demo')
    t.match(text, `curl -s -X POST http://127.0.0.1:3000/v1/transfers -H 'Authorization: Bearer mk_demo'`)
    t.match(text, '"fromWalletId":"w-from","toWalletId":"w-to","amount":2500,"currency":"ZAR"')
    t.match(text, `curl -s -X POST http://127.0.0.1:3000/v1/purchases -H 'Authorization: Bearer mk_demo'`)
    t.match(
      text,
      '"walletId":"w-from","provider":"flash","productId":"flash-vodacom-airtime-10","recipient":"+27821234567"'
    )
  }
)

t.test('embedded database with a real Redis and a chosen token', async (t) => {
  const text = welcomeText(
    loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', ADMIN_TOKEN: 'k7Qv2mZx9pLw4RtY8nBc3HsJ6fDg1VaE' }),
    'http://h:1',
    demo
  )
  t.match(text, 'stores: Redis at redis://127.0.0.1:6379')
  t.match(text, /admin token: k7Qv2mZx9pLw4RtY8nBc3HsJ6fDg1VaE\n/)
})
