import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { ADMIN_TOKEN } from './app.js'

export interface TestUser {
  id: string
  apiKey: string
}

/** The contract's calls, through `inject()`, for tests that need a user with a funded wallet. */
export class Api {
  constructor(readonly app: FastifyInstance) {}

  request(options: InjectOptions & { token?: string; key?: string }): Promise<LightMyRequestResponse> {
    const { token, key, headers, ...rest } = options
    return this.app.inject({
      ...rest,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(key === undefined ? {} : { 'idempotency-key': key }),
        ...headers
      }
    })
  }

  async createUser(name = 'Thandi'): Promise<TestUser> {
    const response = await this.request({
      method: 'POST',
      url: '/v1/users',
      token: ADMIN_TOKEN,
      payload: { name }
    })
    if (response.statusCode !== 201) throw new Error(`createUser: ${response.statusCode} ${response.body}`)
    return response.json()
  }

  async createWallet(
    user: TestUser,
    currency = 'ZAR'
  ): Promise<{ id: string; balance: number; currency: string }> {
    const response = await this.request({
      method: 'POST',
      url: '/v1/wallets',
      token: user.apiKey,
      key: randomUUID(),
      payload: { currency }
    })
    if (response.statusCode !== 201) throw new Error(`createWallet: ${response.statusCode} ${response.body}`)
    return response.json()
  }

  /** A new user with a new wallet holding `amount`. */
  async fundedWallet(amount: number, currency = 'ZAR'): Promise<{ user: TestUser; walletId: string }> {
    const user = await this.createUser()
    const wallet = await this.createWallet(user, currency)
    if ((await this.deposit(wallet.id, amount)).statusCode !== 201)
      throw new Error('fundedWallet: deposit failed')
    return { user, walletId: wallet.id }
  }

  deposit(walletId: string, amount: number, key: string = randomUUID()): Promise<LightMyRequestResponse> {
    return this.request({
      method: 'POST',
      url: '/v1/deposits',
      token: ADMIN_TOKEN,
      key,
      payload: { walletId, amount }
    })
  }

  transfer(
    user: TestUser,
    body: { fromWalletId: string; toWalletId: string; amount: number; currency?: string; reference?: string },
    key: string = randomUUID()
  ): Promise<LightMyRequestResponse> {
    return this.request({
      method: 'POST',
      url: '/v1/transfers',
      token: user.apiKey,
      key,
      payload: { currency: 'ZAR', ...body }
    })
  }

  purchase(
    user: TestUser,
    body: {
      walletId: string
      provider?: string
      productId: string
      amount?: number
      recipient?: string
      reference?: string
    },
    key: string = randomUUID()
  ): Promise<LightMyRequestResponse> {
    return this.request({
      method: 'POST',
      url: '/v1/purchases',
      token: user.apiKey,
      key,
      payload: { provider: 'flash', ...body }
    })
  }

  async balance(user: TestUser, walletId: string): Promise<number> {
    const response = await this.request({ method: 'GET', url: `/v1/wallets/${walletId}`, token: user.apiKey })
    return response.json().balance
  }
}

/**
 * Sends until the answer is final: 409s (lock busy, key in flight) are retried with the same key,
 * and so are the statuses in `alsoRetry` (503: an unknown outcome a client retries with its key).
 */
export async function untilFinal(
  send: () => Promise<LightMyRequestResponse>,
  alsoRetry: number[] = []
): Promise<LightMyRequestResponse> {
  for (;;) {
    const response = await send()
    if (response.statusCode !== 409 && !alsoRetry.includes(response.statusCode)) return response
    await sleep(5 + Math.random() * 20)
  }
}
