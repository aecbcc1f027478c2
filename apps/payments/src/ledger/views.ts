import type { deposits, journalEntries, transfers, wallets } from '../db/schema.js'

// What the API shows of each row: the contract's field names, RFC 3339 timestamps.

export function walletView(row: typeof wallets.$inferSelect) {
  return {
    id: row.id,
    ownerId: row.ownerId as string,
    currency: row.currency,
    balance: row.balance,
    createdAt: row.createdAt.toISOString()
  }
}

export function depositView(
  row: Pick<
    typeof deposits.$inferSelect,
    'id' | 'walletId' | 'amount' | 'currency' | 'reference' | 'createdAt'
  >
) {
  return {
    id: row.id,
    walletId: row.walletId,
    amount: row.amount,
    currency: row.currency,
    reference: row.reference,
    createdAt: row.createdAt.toISOString()
  }
}

export function transferView(
  row: Pick<
    typeof transfers.$inferSelect,
    'id' | 'fromWalletId' | 'toWalletId' | 'amount' | 'currency' | 'reference' | 'status' | 'createdAt'
  >
) {
  return {
    id: row.id,
    fromWalletId: row.fromWalletId,
    toWalletId: row.toWalletId,
    amount: row.amount,
    currency: row.currency,
    reference: row.reference,
    status: row.status,
    createdAt: row.createdAt.toISOString()
  }
}

export function entryView(row: typeof journalEntries.$inferSelect) {
  return {
    id: row.id,
    walletId: row.walletId,
    kind: row.kind,
    direction: row.direction,
    amount: row.amount,
    balanceAfter: row.balanceAfter,
    transferId: row.transferId,
    depositId: row.depositId,
    purchaseId: row.purchaseId,
    counterpartyWalletId: row.counterpartyWalletId,
    reference: row.reference,
    createdAt: row.createdAt.toISOString()
  }
}
