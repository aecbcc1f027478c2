import { sql } from 'drizzle-orm'
import {
  bigint,
  bigserial,
  char,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid
} from 'drizzle-orm/pg-core'

// One schema for Postgres and embedded PGlite. Money is bigint minor units, read as JS
// numbers: the API bounds every user balance to Number.MAX_SAFE_INTEGER.
const money = (name: string) => bigint(name, { mode: 'number' })
const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow()

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  /** SHA-256 of the API key: the key is a long random secret, so a fast hash suffices. */
  apiKeyHash: char('api_key_hash', { length: 64 }).notNull().unique(),
  createdAt: createdAt()
})

export const wallets = pgTable(
  'wallets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Null for the system accounts: a currency's funding account and the settlement accounts. */
    ownerId: uuid('owner_id').references(() => users.id),
    /** `system`: a currency's funding account; `settlement`: what a provider is owed for purchases. */
    kind: text('kind', { enum: ['user', 'system', 'settlement'] })
      .notNull()
      .default('user'),
    /** The provider of a settlement account (flash, easypay); null for every other kind. */
    provider: text('provider'),
    currency: char('currency', { length: 3 }).notNull(),
    balance: money('balance').notNull().default(0),
    /** Highest wallet-lock fencing token that wrote this row (stale lock holders are refused). */
    lockFence: bigint('lock_fence', { mode: 'number' }).notNull().default(0),
    idempotencyKey: text('idempotency_key'),
    requestFingerprint: text('request_fingerprint'),
    createdAt: createdAt()
  },
  (table) => [
    check('user_wallet_balance_not_negative', sql`${table.kind} <> 'user' OR ${table.balance} >= 0`),
    check('owner_matches_kind', sql`(${table.kind} = 'user') = (${table.ownerId} IS NOT NULL)`),
    check('provider_matches_kind', sql`(${table.kind} = 'settlement') = (${table.provider} IS NOT NULL)`),
    uniqueIndex('one_system_wallet_per_currency')
      .on(table.currency)
      .where(sql`${table.kind} = 'system'`),
    uniqueIndex('one_settlement_account_per_provider_currency')
      .on(table.provider, table.currency)
      .where(sql`${table.kind} = 'settlement'`),
    uniqueIndex('wallets_owner_idempotency_key').on(table.ownerId, table.idempotencyKey),
    index('wallets_owner').on(table.ownerId)
  ]
)

export const deposits = pgTable(
  'deposits',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    walletId: uuid('wallet_id')
      .notNull()
      .references(() => wallets.id),
    amount: money('amount').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    reference: text('reference'),
    principal: text('principal').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    requestFingerprint: text('request_fingerprint').notNull(),
    createdAt: createdAt()
  },
  (table) => [
    check('deposit_amount_positive', sql`${table.amount} > 0`),
    uniqueIndex('deposits_principal_idempotency_key').on(table.principal, table.idempotencyKey)
  ]
)

export const transfers = pgTable(
  'transfers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    fromWalletId: uuid('from_wallet_id')
      .notNull()
      .references(() => wallets.id),
    toWalletId: uuid('to_wallet_id')
      .notNull()
      .references(() => wallets.id),
    amount: money('amount').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    reference: text('reference'),
    status: text('status', { enum: ['completed'] })
      .notNull()
      .default('completed'),
    principal: text('principal').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    requestFingerprint: text('request_fingerprint').notNull(),
    createdAt: createdAt()
  },
  (table) => [
    check('transfer_amount_positive', sql`${table.amount} > 0`),
    check('transfer_distinct_wallets', sql`${table.fromWalletId} <> ${table.toWalletId}`),
    uniqueIndex('transfers_principal_idempotency_key').on(table.principal, table.idempotencyKey),
    index('transfers_from_wallet').on(table.fromWalletId),
    index('transfers_to_wallet').on(table.toWalletId)
  ]
)

/**
 * A purchase of a provider's product: recorded `pending` in the transaction that debits the
 * wallet and credits the provider's settlement account, then `completed` with the provider's
 * fulfilment, or `failed` in the transaction that refunds it. Never changes once settled.
 */
export const purchases = pgTable(
  'purchases',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    walletId: uuid('wallet_id')
      .notNull()
      .references(() => wallets.id),
    settlementWalletId: uuid('settlement_wallet_id')
      .notNull()
      .references(() => wallets.id),
    provider: text('provider').notNull(),
    productId: text('product_id').notNull(),
    /** The catalog version the product was priced at. */
    catalogVersion: text('catalog_version').notNull(),
    amount: money('amount').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    recipient: text('recipient'),
    reference: text('reference'),
    status: text('status', { enum: ['pending', 'completed', 'failed'] })
      .notNull()
      .default('pending'),
    fulfilment: jsonb('fulfilment'),
    failureCode: text('failure_code'),
    principal: text('principal').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    requestFingerprint: text('request_fingerprint').notNull(),
    createdAt: createdAt(),
    settledAt: timestamp('settled_at', { withTimezone: true, mode: 'date' }),
    /** How often the settler asked the provider; its backoff grows with it. */
    settleAttempts: integer('settle_attempts').notNull().default(0),
    /** When the settler may next work this purchase (while pending). */
    nextSettleAt: timestamp('next_settle_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow()
  },
  (table) => [
    check('purchase_amount_positive', sql`${table.amount} > 0`),
    check('purchase_settled_when_final', sql`(${table.status} = 'pending') = (${table.settledAt} IS NULL)`),
    check(
      'purchase_completed_has_fulfilment',
      sql`(${table.status} = 'completed') = (${table.fulfilment} IS NOT NULL)`
    ),
    check('purchase_failed_has_code', sql`(${table.status} = 'failed') = (${table.failureCode} IS NOT NULL)`),
    uniqueIndex('purchases_principal_idempotency_key').on(table.principal, table.idempotencyKey),
    index('purchases_wallet').on(table.walletId),
    index('purchases_due')
      .on(table.nextSettleAt)
      .where(sql`${table.status} = 'pending'`)
  ]
)

/** Double-entry journal: every movement writes one debit and one credit line. */
export const journalEntries = pgTable(
  'journal_entries',
  {
    /** Insertion order; the history cursor. */
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: uuid('id').notNull().unique().defaultRandom(),
    walletId: uuid('wallet_id')
      .notNull()
      .references(() => wallets.id),
    kind: text('kind', { enum: ['transfer', 'deposit', 'purchase', 'refund'] }).notNull(),
    direction: text('direction', { enum: ['debit', 'credit'] }).notNull(),
    amount: money('amount').notNull(),
    balanceAfter: money('balance_after').notNull(),
    transferId: uuid('transfer_id').references(() => transfers.id),
    depositId: uuid('deposit_id').references(() => deposits.id),
    /** A purchase's debit of the wallet, or its refund. */
    purchaseId: uuid('purchase_id').references(() => purchases.id),
    counterpartyWalletId: uuid('counterparty_wallet_id').references(() => wallets.id),
    reference: text('reference'),
    createdAt: createdAt()
  },
  (table) => [
    check('journal_amount_positive', sql`${table.amount} > 0`),
    check(
      'journal_one_source',
      sql`num_nonnulls(${table.transferId}, ${table.depositId}, ${table.purchaseId}) = 1`
    ),
    index('journal_wallet_seq').on(table.walletId, table.seq)
  ]
)

/** Provider catalogs, one row per version; the newest row of a provider is current. */
export const catalogVersions = pgTable(
  'catalog_versions',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    provider: text('provider').notNull(),
    version: text('version').notNull(),
    productCount: integer('product_count').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: createdAt()
  },
  (table) => [index('catalog_versions_provider_seq').on(table.provider, table.seq)]
)
