import type { Config } from './config.js'
import type { Demo } from './demo.js'

/** Embedded mode is for trying the service: say what it runs on and how to talk to it. */
export function welcomeText(config: Config, address: string, demo: Demo): string {
  const stores =
    config.redisUrl === undefined ? 'in-process (single instance only)' : `Redis at ${config.redisUrl}`
  const tokenNote = config.adminTokenGenerated
    ? '   (generated for this run; set ADMIN_TOKEN to choose one)'
    : ''
  const currency = config.supportedCurrencies[0]
  const user = `-H 'Authorization: Bearer ${demo.apiKey}'`
  const admin = `-H 'Authorization: Bearer ${config.adminToken}'`
  const json = "-H 'Content-Type: application/json'"
  return [
    '',
    `Moolah payments is running at ${address} (embedded mode)`,
    `  database: PGlite under ${config.dataDir}/pglite · stores: ${stores}`,
    `  admin token: ${config.adminToken}${tokenNote}`,
    `  demo user API key: ${demo.apiKey}   (two ${currency} wallets, the first holding 1000.00)`,
    '',
    'Try it (amounts are in cents; change the Idempotency-Key for a new request):',
    `  curl -s ${address}/v1/wallets ${user}`,
    `  curl -s -X POST ${address}/v1/deposits ${admin} ${json} -H 'Idempotency-Key: try-deposit-1' -d '{"walletId":"${demo.toWalletId}","amount":5000}'`,
    `  curl -s -X POST ${address}/v1/transfers ${user} ${json} -H 'Idempotency-Key: try-transfer-1' -d '{"fromWalletId":"${demo.fromWalletId}","toWalletId":"${demo.toWalletId}","amount":2500,"currency":"${currency}"}'`,
    `  curl -s -X POST ${address}/v1/purchases ${user} ${json} -H 'Idempotency-Key: try-purchase-1' -d '{"walletId":"${demo.fromWalletId}","provider":"flash","productId":"flash-vodacom-airtime-10","recipient":"+27821234567"}'`,
    `    (the sandbox declines +27000000402, fails +27000000500, answers +27000000504 late: 202 pending, then GET ${address}/v1/purchases/<id> ${user})`,
    `  curl -s ${address}/v1/wallets/${demo.fromWalletId}/transactions ${user}`,
    `  curl -s ${address}/v1/catalog/flash`,
    `  open ${address}/docs`,
    ''
  ].join('\n')
}
