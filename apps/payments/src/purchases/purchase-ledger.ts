import { LockLostError } from '@moolah/fastify-wallet-lock'
import { and, eq } from 'drizzle-orm'
import type { Database, Db } from '../db/database.js'
import { purchases, wallets } from '../db/schema.js'
import { statement } from '../db/statement.js'
import { InsufficientFunds, ProductCurrencyMismatch, PurchaseNotFound, WalletNotFound } from '../errors.js'
import { sameRequest } from '../ledger/exactly-once.js'
import { isId } from '../ledger/ids.js'
import type { Fulfilment, ProviderName, ProviderOutcome } from './provider-port.js'

export type PurchaseStatus = 'pending' | 'completed' | 'failed'

/** A purchase as the API shows it. */
export interface PurchaseView {
  id: string
  walletId: string
  provider: ProviderName
  productId: string
  catalogVersion: string
  amount: number
  currency: string
  recipient: string | null
  reference: string | null
  status: PurchaseStatus
  fulfilment: Fulfilment | null
  failureCode: string | null
  createdAt: string
  settledAt: string | null
}

export interface RecordPurchase extends Pick<
  PurchaseView,
  'walletId' | 'provider' | 'productId' | 'catalogVersion' | 'amount' | 'currency' | 'recipient' | 'reference'
> {
  userId: string
  idempotencyKey: string
  fingerprint: string
  /** Fencing token of the distributed lock this request holds on the paying wallet, if any. */
  fence: number | undefined
  /** From when the settler may work the purchase: after the request's own call to the provider. */
  settleAfterMs: number
}

interface SettledColumns {
  status: PurchaseStatus
  fulfilment: Fulfilment | null
  failure_code: string | null
  settled_at: Date | string | null
}

type PostOutcome =
  'CREATED' | 'EXISTING' | 'WALLET_NOT_FOUND' | 'CURRENCY_MISMATCH' | 'LOCK_LOST' | 'INSUFFICIENT_FUNDS'

// The posting is post_purchase() and the settlement settle_purchase() (drizzle/0003_purchase_functions.sql).
const POST_PURCHASE = statement<
  SettledColumns & {
    outcome: PostOutcome
    purchase_id: string
    request_fingerprint: string
    catalog_version: string
    amount: number
    created_at: Date | string
  }
>(
  'SELECT outcome, purchase_id, request_fingerprint, catalog_version, amount, status, fulfilment, failure_code, created_at, settled_at FROM post_purchase($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)'
)
const SETTLE_PURCHASE = statement<SettledColumns & { outcome: 'SETTLED' | 'ALREADY' | 'NOT_FOUND' }>(
  'SELECT outcome, status, fulfilment, failure_code, settled_at FROM settle_purchase($1, $2, $3)'
)

export interface RecordedPurchase {
  purchase: PurchaseView
  /** False when the key had already recorded it: a retry, answered with its current state. */
  created: boolean
}

/**
 * Debits the wallet, credits the provider's settlement account and records the purchase
 * pending, in one statement; a retry with the same key gets the recorded purchase back.
 * Any refusal leaves nothing behind.
 */
export async function recordPurchase(database: Database, input: RecordPurchase): Promise<RecordedPurchase> {
  const [row] = await database.run(POST_PURCHASE, [
    input.userId,
    input.walletId,
    input.provider,
    input.productId,
    input.catalogVersion,
    input.amount,
    input.currency,
    input.recipient,
    input.reference,
    input.idempotencyKey,
    input.fingerprint,
    input.fence ?? null,
    input.settleAfterMs
  ])
  /* c8 ignore next -- a function with OUT parameters always returns exactly one row */
  if (row === undefined) throw new Error('post_purchase returned no row')
  switch (row.outcome) {
    case 'CREATED':
    case 'EXISTING':
      sameRequest(row.request_fingerprint, input.fingerprint)
      return {
        created: row.outcome === 'CREATED',
        purchase: {
          ...settledView(row),
          id: row.purchase_id,
          walletId: input.walletId,
          provider: input.provider,
          productId: input.productId,
          catalogVersion: row.catalog_version,
          amount: Number(row.amount),
          currency: input.currency,
          recipient: input.recipient,
          reference: input.reference,
          createdAt: new Date(row.created_at).toISOString()
        }
      }
    case 'WALLET_NOT_FOUND':
      throw new WalletNotFound(input.walletId)
    // The route checks the currency (cached) before the posting; this is its backstop.
    case 'CURRENCY_MISMATCH':
      throw new ProductCurrencyMismatch(input.currency, 'another currency')
    case 'LOCK_LOST':
      throw new LockLostError(input.walletId)
    case 'INSUFFICIENT_FUNDS':
      throw new InsufficientFunds()
  }
}

/**
 * Settles a pending purchase with the provider's certain outcome: completed with its
 * fulfilment, or failed and refunded in the same statement. A purchase someone else settled
 * first keeps that settlement; the answer is the purchase's state either way.
 */
export async function settlePurchase(
  database: Database,
  purchaseId: string,
  outcome: ProviderOutcome
): Promise<Pick<PurchaseView, 'status' | 'fulfilment' | 'failureCode' | 'settledAt'>> {
  // jsonb as its text: both drivers pass a string parameter through as it is.
  const [fulfilment, failureCode] =
    outcome.status === 'fulfilled' ? [JSON.stringify(outcome.fulfilment), null] : [null, outcome.failureCode]
  const [row] = await database.run(SETTLE_PURCHASE, [purchaseId, fulfilment, failureCode])
  /* c8 ignore next 2 -- settled purchases are never deleted, and a function with OUT parameters returns one row */
  if (row === undefined || row.outcome === 'NOT_FOUND')
    throw new Error(`settle_purchase: no purchase ${purchaseId}`)
  return settledView(row)
}

function settledView(
  row: SettledColumns
): Pick<PurchaseView, 'status' | 'fulfilment' | 'failureCode' | 'settledAt'> {
  return {
    status: row.status,
    fulfilment: row.fulfilment,
    failureCode: row.failure_code,
    settledAt: row.settled_at === null ? null : new Date(row.settled_at).toISOString()
  }
}

/** The owner's purchase; to anyone else it does not exist. */
export async function visiblePurchase(db: Db, userId: string, id: string): Promise<PurchaseView> {
  const [row] = isId(id)
    ? await db
        .select({ purchase: purchases })
        .from(purchases)
        .innerJoin(wallets, eq(wallets.id, purchases.walletId))
        .where(and(eq(purchases.id, id), eq(wallets.ownerId, userId)))
        .limit(1)
    : []
  if (row === undefined) throw new PurchaseNotFound(id)
  return purchaseView(row.purchase)
}

/**
 * The purchase a key already recorded, for a retry the catalog now refuses (the product gone,
 * its price changed): once recorded, a purchase stays the answer for its key. Error path only.
 */
export async function purchaseOfKey(
  db: Db,
  userId: string,
  key: string,
  fingerprint: string
): Promise<PurchaseView | undefined> {
  const [row] = await db
    .select()
    .from(purchases)
    .where(and(eq(purchases.principal, userId), eq(purchases.idempotencyKey, key)))
    .limit(1)
  if (row === undefined) return undefined
  sameRequest(row.requestFingerprint, fingerprint)
  return purchaseView(row)
}

function purchaseView(purchase: typeof purchases.$inferSelect): PurchaseView {
  return {
    id: purchase.id,
    walletId: purchase.walletId,
    provider: purchase.provider as ProviderName,
    productId: purchase.productId,
    catalogVersion: purchase.catalogVersion,
    amount: purchase.amount,
    currency: purchase.currency,
    recipient: purchase.recipient,
    reference: purchase.reference,
    status: purchase.status,
    fulfilment: purchase.fulfilment as Fulfilment | null,
    failureCode: purchase.failureCode,
    createdAt: purchase.createdAt.toISOString(),
    settledAt: purchase.settledAt?.toISOString() ?? null
  }
}
