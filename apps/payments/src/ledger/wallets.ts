import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../db/database.js'
import { wallets } from '../db/schema.js'
import { WalletNotFound } from '../errors.js'
import { exactlyOnce } from './exactly-once.js'
import { isId } from './ids.js'
import type { Tx, WalletRow } from './post-movement.js'
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
    async () => (await db.select().from(wallets).where(and(eq(wallets.ownerId, input.ownerId), eq(wallets.idempotencyKey, input.idempotencyKey))))[0],
    async () => {
      const [created] = await db.insert(wallets).values({
        ownerId: input.ownerId,
        currency: input.currency,
        idempotencyKey: input.idempotencyKey,
        requestFingerprint: input.fingerprint
      }).returning()
      return created as WalletRow
    }
  )
  return walletView(row)
}

/** The owner's wallet, or WALLET_NOT_FOUND: another user's wallet does not exist for them. */
export async function ownedWallet(db: Db, ownerId: string, id: string) {
  const row = isId(id) ? (await db.select().from(wallets).where(and(eq(wallets.id, id), eq(wallets.ownerId, ownerId))))[0] : undefined
  if (row === undefined) throw new WalletNotFound(id)
  return walletView(row)
}

export async function listWallets(db: Db, ownerId: string) {
  const rows = await db.select().from(wallets).where(eq(wallets.ownerId, ownerId)).orderBy(asc(wallets.createdAt), asc(wallets.id))
  return rows.map(walletView)
}

/** Locks the rows in id order — the same order in every transaction, so none deadlock. */
export async function lockWallets(tx: Tx, ids: string[]): Promise<Map<string, WalletRow>> {
  const rows = await tx.select().from(wallets).where(inArray(wallets.id, ids)).orderBy(asc(wallets.id)).for('update')
  return new Map(rows.map((row) => [row.id, row]))
}

/**
 * The funding account of a currency: deposits are debited from it, so all balances sum to 0.
 * It exists after the first deposit in its currency, so the usual cost is one indexed read;
 * the first deposit creates it (ON CONFLICT: concurrent first deposits create it once).
 */
export async function systemWalletId(tx: Tx, currency: string): Promise<string> {
  const find = async () => (await tx.select({ id: wallets.id }).from(wallets).where(and(eq(wallets.kind, 'system'), eq(wallets.currency, currency))))[0]
  const existing = await find()
  if (existing !== undefined) return existing.id
  await tx.insert(wallets).values({ kind: 'system', currency }).onConflictDoNothing({ target: wallets.currency, where: sql`${wallets.kind} = 'system'` })
  return (await find() as { id: string }).id
}
