import { and, eq, or } from 'drizzle-orm'
import type { Db } from '../db/database.js'
import { transfers, wallets } from '../db/schema.js'
import { CurrencyMismatch, SameWallet, TransferNotFound, WalletNotFound } from '../errors.js'
import { exactlyOnce } from './exactly-once.js'
import { isId } from './ids.js'
import { postMovement } from './post-movement.js'
import { transferView } from './views.js'
import { lockWallets } from './wallets.js'

export interface CreateTransfer {
  userId: string
  fromWalletId: string
  toWalletId: string
  amount: number
  currency: string
  reference: string | null
  idempotencyKey: string
  fingerprint: string
  fences: Readonly<Record<string, number>>
}

/**
 * Moves money between two wallets in one transaction: both rows locked in id order,
 * ownership, currency and balance checked on the locked rows, one transfer row (unique per
 * principal and key), two journal lines, two balances. Any failure leaves nothing behind.
 */
export async function createTransfer(db: Db, input: CreateTransfer) {
  const row = await exactlyOnce(
    input.fingerprint,
    async () => (await db.select().from(transfers).where(and(eq(transfers.principal, input.userId), eq(transfers.idempotencyKey, input.idempotencyKey))))[0],
    () => db.transaction(async (tx) => {
      const ids = [input.fromWalletId, input.toWalletId]
      const locked = ids.every(isId) ? await lockWallets(tx, ids) : new Map()
      const from = locked.get(input.fromWalletId)
      const to = locked.get(input.toWalletId)
      if (from === undefined || from.ownerId !== input.userId) throw new WalletNotFound(input.fromWalletId)
      if (input.fromWalletId === input.toWalletId) throw new SameWallet()
      if (to === undefined || to.kind !== 'user') throw new WalletNotFound(input.toWalletId)
      if (from.currency !== input.currency || to.currency !== input.currency) throw new CurrencyMismatch(input.currency)

      const [transfer] = await tx.insert(transfers).values({
        fromWalletId: from.id,
        toWalletId: to.id,
        amount: input.amount,
        currency: input.currency,
        reference: input.reference,
        principal: input.userId,
        idempotencyKey: input.idempotencyKey,
        requestFingerprint: input.fingerprint
      }).returning()
      const created = transfer as typeof transfers.$inferSelect
      await postMovement(tx, { kind: 'transfer', debit: from, credit: to, amount: input.amount, reference: input.reference, transferId: created.id, fences: input.fences })
      return created
    })
  )
  return transferView(row)
}

/** Visible to the owner of either wallet; to anyone else it does not exist. */
export async function visibleTransfer(db: Db, userId: string, id: string) {
  const [row] = isId(id)
    ? await db.select({ transfer: transfers }).from(transfers)
      .innerJoin(wallets, or(eq(wallets.id, transfers.fromWalletId), eq(wallets.id, transfers.toWalletId)))
      .where(and(eq(transfers.id, id), eq(wallets.ownerId, userId)))
      .limit(1)
    : []
  if (row === undefined) throw new TransferNotFound(id)
  return transferView(row.transfer)
}
