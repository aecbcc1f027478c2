import type { Database } from '../db/database.js'
import { statement } from '../db/statement.js'
import { AmountTooLarge, WalletNotFound } from '../errors.js'
import { sameRequest } from './exactly-once.js'
import { isId } from './ids.js'
import { depositView } from './views.js'

export interface CreateDeposit {
  walletId: string
  amount: number
  reference: string | null
  principal: string
  idempotencyKey: string
  fingerprint: string
}

type Outcome = 'CREATED' | 'EXISTING' | 'WALLET_NOT_FOUND' | 'AMOUNT_TOO_LARGE'

// The whole posting is post_deposit() (drizzle/0001_ledger_functions.sql): one statement.
const POST_DEPOSIT = statement<{
  outcome: Outcome
  deposit_id: string
  currency: string
  request_fingerprint: string
  created_at: Date
}>(
  'SELECT outcome, deposit_id, currency, request_fingerprint, created_at FROM post_deposit($1, $2, $3, $4, $5, $6)'
)

/** Funds a user wallet from the system account of its currency, in one statement. */
export async function createDeposit(database: Database, input: CreateDeposit) {
  if (!isId(input.walletId)) throw new WalletNotFound(input.walletId)
  const [row] = await database.run(POST_DEPOSIT, [
    input.principal,
    input.walletId,
    input.amount,
    input.reference,
    input.idempotencyKey,
    input.fingerprint
  ])
  /* c8 ignore next -- a function with OUT parameters always returns exactly one row */
  if (row === undefined) throw new Error('post_deposit returned no row')
  switch (row.outcome) {
    case 'CREATED':
    case 'EXISTING':
      sameRequest(row.request_fingerprint, input.fingerprint)
      return depositView({
        ...input,
        id: row.deposit_id,
        currency: row.currency,
        createdAt: new Date(row.created_at)
      })
    case 'WALLET_NOT_FOUND':
      throw new WalletNotFound(input.walletId)
    case 'AMOUNT_TOO_LARGE':
      throw new AmountTooLarge()
  }
}
