import { and, asc, eq } from 'drizzle-orm'
import type { Db } from '../db/database.js'
import { wallets } from '../db/schema.js'
import { WalletNotFound } from '../errors.js'
import { exactlyOnce } from './exactly-once.js'
import { isId } from './ids.js'
import { walletView } from './views.js'

export interface CreateWallet {
  ownerId: string
  currency: string
  idempotencyKey: string
  fingerprint: string
}

export async function createWallet(db: Db, input: CreateWallet) {
  const row = await exactlyOnce(
    input.fingerprint,
    async () => {
      const [created] = await db
        .insert(wallets)
        .values({
          ownerId: input.ownerId,
          currency: input.currency,
          idempotencyKey: input.idempotencyKey,
          requestFingerprint: input.fingerprint
        })
        .returning()
      return created as typeof wallets.$inferSelect
    },
    async () =>
      (
        await db
          .select()
          .from(wallets)
          .where(and(eq(wallets.ownerId, input.ownerId), eq(wallets.idempotencyKey, input.idempotencyKey)))
      )[0]
  )
  return walletView(row)
}

/** The owner's wallet, or WALLET_NOT_FOUND: another user's wallet does not exist for them. */
export async function ownedWallet(db: Db, ownerId: string, id: string) {
  const row = isId(id)
    ? (
        await db
          .select()
          .from(wallets)
          .where(and(eq(wallets.id, id), eq(wallets.ownerId, ownerId)))
      )[0]
    : undefined
  if (row === undefined) throw new WalletNotFound(id)
  return walletView(row)
}

export async function listWallets(db: Db, ownerId: string) {
  const rows = await db
    .select()
    .from(wallets)
    .where(eq(wallets.ownerId, ownerId))
    .orderBy(asc(wallets.createdAt), asc(wallets.id))
  return rows.map(walletView)
}
