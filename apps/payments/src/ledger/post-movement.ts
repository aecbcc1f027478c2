import { eq } from 'drizzle-orm'
import type { Db } from '../db/database.js'
import { journalEntries, wallets } from '../db/schema.js'
import { AmountTooLarge, InsufficientFunds, LockLost } from '../errors.js'

export type WalletRow = typeof wallets.$inferSelect
/** A transaction handle: what `db.transaction()` passes to its callback. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

export interface Movement {
  kind: 'transfer' | 'deposit'
  /** Money leaves this wallet; its row must be locked FOR UPDATE by the caller. */
  debit: WalletRow
  /** Money arrives here; locked FOR UPDATE too. */
  credit: WalletRow
  amount: number
  reference: string | null
  transferId?: string
  depositId?: string
  /** Wallet id → fencing token of the distributed lock this request holds on it. */
  fences: Readonly<Record<string, number>>
}

/**
 * Posts one balanced movement: a debit line and a credit line, and both balances.
 * The balance checks run here, on locked rows, whatever the Redis lock said.
 */
export async function postMovement(tx: Tx, movement: Movement): Promise<void> {
  const { debit, credit, amount } = movement
  if (debit.kind === 'user' && debit.balance < amount) throw new InsufficientFunds()
  const debitAfter = debit.balance - amount
  const creditAfter = credit.balance + amount
  if (credit.kind === 'user' && creditAfter > Number.MAX_SAFE_INTEGER) throw new AmountTooLarge()

  await setBalance(tx, debit, debitAfter, movement.fences)
  await setBalance(tx, credit, creditAfter, movement.fences)
  const line = {
    kind: movement.kind,
    amount,
    reference: movement.reference,
    transferId: movement.transferId ?? null,
    depositId: movement.depositId ?? null
  }
  await tx.insert(journalEntries).values([
    { ...line, walletId: debit.id, direction: 'debit', balanceAfter: debitAfter, counterpartyWalletId: movement.kind === 'transfer' ? credit.id : null },
    { ...line, walletId: credit.id, direction: 'credit', balanceAfter: creditAfter, counterpartyWalletId: movement.kind === 'transfer' ? debit.id : null }
  ])
}

/**
 * Writes the balance and, when this request holds the wallet's distributed lock, its
 * fencing token: a holder whose lease expired while a newer holder already wrote the
 * wallet has a smaller token and is refused (see the wallet-lock README's fencing recipe).
 */
async function setBalance(tx: Tx, wallet: WalletRow, balance: number, fences: Readonly<Record<string, number>>): Promise<void> {
  const fence = fences[wallet.id]
  if (fence !== undefined && fence <= wallet.lockFence) throw new LockLost()
  await tx.update(wallets).set({ balance, lockFence: fence ?? wallet.lockFence }).where(eq(wallets.id, wallet.id))
}
