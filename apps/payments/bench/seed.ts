// The data every variant starts from, created through the HTTP contract (payments-api.md)
// so it keeps working however the service is built: funded payer wallets and one merchant.
import { randomUUID } from 'node:crypto'
import type { Party, Replayable } from './load-job.js'

/** Minor units each payer starts with: far more than a run can spend at 1 cent a transfer. */
const PAYER_FUNDS = 1_000_000_000
const PARALLEL = 8

export interface Parties {
  payers: Party[]
  /** Receives in the hot-payee scenario; pays nobody. */
  merchant: Party
}

interface Answer {
  status: number
  text: string
}

async function post(
  url: string,
  bearer: string,
  payload: object | string,
  idempotencyKey?: string
): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey })
    },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload)
  })
  return { status: response.status, text: await response.text() }
}

/** POST that must answer 201; a 409 (busy wallet, key in flight) is retried with the same key. */
async function create(
  url: string,
  bearer: string,
  payload: object | string,
  idempotencyKey?: string
): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const answer = await post(url, bearer, payload, idempotencyKey)
    if (answer.status === 201) return answer
    if (answer.status !== 409 || attempt === 10)
      throw new Error(
        `seed: POST ${new URL(url).pathname} answered ${answer.status}: ${answer.text.slice(0, 300)}`
      )
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt))
  }
}

async function inParallel<T, R>(items: T[], run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await run(items[index] as T, index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker))
  return results
}

async function party(baseUrl: string, adminToken: string, name: string, funds: number): Promise<Party> {
  const user = JSON.parse((await create(`${baseUrl}/v1/users`, adminToken, { name })).text) as {
    id: string
    apiKey: string
  }
  const wallet = JSON.parse(
    (await create(`${baseUrl}/v1/wallets`, user.apiKey, { currency: 'ZAR' }, randomUUID())).text
  ) as { id: string }
  if (funds > 0)
    await create(`${baseUrl}/v1/deposits`, adminToken, { walletId: wallet.id, amount: funds }, randomUUID())
  return { userId: user.id, apiKey: user.apiKey, walletId: wallet.id }
}

/** `payers` users with one funded ZAR wallet each, and a merchant with an empty one. */
export async function seedParties(baseUrl: string, adminToken: string, payers: number): Promise<Parties> {
  const names = Array.from({ length: payers }, (_, i) => `bench payer ${i}`)
  return {
    payers: await inParallel(names, (name) => party(baseUrl, adminToken, name, PAYER_FUNDS)),
    merchant: await party(baseUrl, adminToken, 'bench merchant', 0)
  }
}

/** One completed transfer per payer (to the next payer), remembered for replaying. */
export async function createReplayables(baseUrl: string, payers: Party[]): Promise<Replayable[]> {
  return inParallel(payers, async (from, i) => {
    const to = payers[(i + 1) % payers.length] as Party
    const body = JSON.stringify({
      fromWalletId: from.walletId,
      toWalletId: to.walletId,
      amount: 1,
      currency: 'ZAR'
    })
    const idempotencyKey = randomUUID()
    const answer = await create(`${baseUrl}/v1/transfers`, from.apiKey, body, idempotencyKey)
    return { apiKey: from.apiKey, idempotencyKey, body, response: answer.text }
  })
}
