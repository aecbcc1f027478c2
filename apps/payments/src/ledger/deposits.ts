import { and, eq } from 'drizzle-orm'
import type { Db } from '../db/database.js'
import { deposits, wallets } from '../db/schema.js'
import { WalletNotFound } from '../errors.js'
import { exactlyOnce } from './exactly-once.js'
import { isId } from './ids.js'
import { postMovement } from './post-movement.js'
import { depositView } from './views.js'
import { lockWallets, systemWalletId } from './wallets.js'

export interface CreateDeposit {
  walletId: string
  amount: number
  reference: string | null
  principal: string
  idempotencyKey: string
  fingerprint: string
  fences: Readonly<Record<string, number>>
}

/** Funds a user wallet from the system account of its currency. */
export async function createDeposit(db: Db, input: CreateDeposit) {
  const row = await exactlyOnce(
    input.fingerprint,
    async () => (await db.select().from(deposits).where(and(eq(deposits.principal, input.principal), eq(deposits.idempotencyKey, input.idempotencyKey))))[0],
    () => db.transaction(async (tx) => {
      const [target] = isId(input.walletId) ? await tx.select().from(wallets).where(and(eq(wallets.id, input.walletId), eq(wallets.kind, 'user'))) : []
      if (target === undefined) throw new WalletNotFound(input.walletId)
      const fundingId = await systemWalletId(tx, target.currency)
      const locked = await lockWallets(tx, [target.id, fundingId])
      const funding = locked.get(fundingId)
      const credited = locked.get(target.id)
      /* c8 ignore next -- wallets are never deleted, so rows just read are still there */
      if (funding === undefined || credited === undefined) throw new WalletNotFound(input.walletId)
      const [deposit] = await tx.insert(deposits).values({
        walletId: target.id,
        amount: input.amount,
        currency: target.currency,
        reference: input.reference,
        principal: input.principal,
        idempotencyKey: input.idempotencyKey,
        requestFingerprint: input.fingerprint
      }).returning()
      const created = deposit as typeof deposits.$inferSelect
      await postMovement(tx, {
        kind: 'deposit',
        debit: funding,
        credit: credited,
        amount: input.amount,
        reference: input.reference,
        depositId: created.id,
        fences: input.fences
      })
      return created
    })
  )
  return depositView(row)
}
