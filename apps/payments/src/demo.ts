import type { FastifyInstance } from 'fastify'
import type { Config } from './config.js'

export interface Demo {
  apiKey: string
  fromWalletId: string
  toWalletId: string
}

/**
 * Embedded mode seeds a demo user with two wallets, the first funded with R1,000, through
 * the service's own routes (so the demo data passes every check a client's would).
 */
export async function seedDemo(app: FastifyInstance, config: Config): Promise<Demo> {
  const call = async (token: string, method: 'POST', url: string, payload: object, key?: string) => {
    const response = await app.inject({
      method,
      url,
      payload,
      headers: { authorization: `Bearer ${token}`, ...(key === undefined ? {} : { 'idempotency-key': key }) }
    })
    /* c8 ignore next 2 -- the service's own routes accept the demo's requests */
    if (response.statusCode !== 201)
      throw new Error(`demo seeding: ${method} ${url} answered ${response.statusCode} ${response.body}`)
    return response.json()
  }
  const currency = config.supportedCurrencies[0]
  const user = await call(config.adminToken, 'POST', '/v1/users', { name: 'Demo user' })
  const from = await call(user.apiKey, 'POST', '/v1/wallets', { currency }, `demo-wallet-1-${user.id}`)
  const to = await call(user.apiKey, 'POST', '/v1/wallets', { currency }, `demo-wallet-2-${user.id}`)
  await call(
    config.adminToken,
    'POST',
    '/v1/deposits',
    { walletId: from.id, amount: 100_000, reference: 'demo funds' },
    `demo-deposit-${user.id}`
  )
  return { apiKey: user.apiKey, fromWalletId: from.id, toWalletId: to.id }
}
