import { and, eq, or } from 'drizzle-orm'
import { LockLostError } from '@moolah/fastify-wallet-lock'
import type { Database, Db } from '../db/database.js'
import { transfers, wallets } from '../db/schema.js'
import { statement } from '../db/statement.js'
import {
  AmountTooLarge,
  CurrencyMismatch,
  InsufficientFunds,
  SameWallet,
  TransferNotFound,
  WalletNotFound
} from '../errors.js'
import { sameRequest } from './exactly-once.js'
import { isId } from './ids.js'
import { transferView } from './views.js'

export interface CreateTransfer {
  userId: string
  fromWalletId: string
  toWalletId: string
  amount: number
  currency: string
  reference: string | null
  idempotencyKey: string
  fingerprint: string
  /** Fencing token of the distributed lock this request holds on the debited wallet, if any. */
  fence: number | undefined
}

type Outcome =
  | 'CREATED'
  | 'EXISTING'
  | 'SOURCE_NOT_FOUND'
  | 'SAME_WALLET'
  | 'DESTINATION_NOT_FOUND'
  | 'CURRENCY_MISMATCH'
  | 'LOCK_LOST'
  | 'INSUFFICIENT_FUNDS'
  | 'AMOUNT_TOO_LARGE'

// The whole posting is post_transfer() (drizzle/0001_ledger_functions.sql): one statement.
const POST_TRANSFER = statement<{
  outcome: Outcome
  transfer_id: string
  request_fingerprint: string
  created_at: Date
}>(
  'SELECT outcome, transfer_id, request_fingerprint, created_at FROM post_transfer($1, $2, $3, $4, $5, $6, $7, $8, $9)'
)

/**
 * Moves money between two wallets in one statement: both rows locked in id order, ownership,
 * currency and balance checked on the locked rows, one transfer row (unique per principal and
 * key), two journal lines, two balances. Any failure leaves nothing behind.
 */
export async function createTransfer(database: Database, input: CreateTransfer) {
  const { fromWalletId, toWalletId } = input
  if (!isId(fromWalletId)) throw new WalletNotFound(fromWalletId)
  if (!isId(toWalletId)) throw new WalletNotFound(toWalletId)
  const [row] = await database.run(POST_TRANSFER, [
    input.userId,
    fromWalletId,
    toWalletId,
    input.amount,
    input.currency,
    input.reference,
    input.idempotencyKey,
    input.fingerprint,
    input.fence ?? null
  ])
  /* c8 ignore next -- a function with OUT parameters always returns exactly one row */
  if (row === undefined) throw new Error('post_transfer returned no row')
  switch (row.outcome) {
    case 'CREATED':
    case 'EXISTING':
      sameRequest(row.request_fingerprint, input.fingerprint)
      return transferView({
        ...input,
        id: row.transfer_id,
        status: 'completed',
        createdAt: new Date(row.created_at)
      })
    case 'SOURCE_NOT_FOUND':
      throw new WalletNotFound(fromWalletId)
    case 'DESTINATION_NOT_FOUND':
      throw new WalletNotFound(toWalletId)
    case 'SAME_WALLET':
      throw new SameWallet()
    case 'CURRENCY_MISMATCH':
      throw new CurrencyMismatch(input.currency)
    // the lease ran out and a newer holder (a greater fence) already wrote the wallet
    case 'LOCK_LOST':
      throw new LockLostError(fromWalletId)
    case 'INSUFFICIENT_FUNDS':
      throw new InsufficientFunds()
    case 'AMOUNT_TOO_LARGE':
      throw new AmountTooLarge()
  }
}

/** Visible to the owner of either wallet; to anyone else it does not exist. */
export async function visibleTransfer(db: Db, userId: string, id: string) {
  const [row] = isId(id)
    ? await db
        .select({ transfer: transfers })
        .from(transfers)
        .innerJoin(wallets, or(eq(wallets.id, transfers.fromWalletId), eq(wallets.id, transfers.toWalletId)))
        .where(and(eq(transfers.id, id), eq(wallets.ownerId, userId)))
        .limit(1)
    : []
  if (row === undefined) throw new TransferNotFound(id)
  return transferView(row.transfer)
}
