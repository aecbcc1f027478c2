import type { WalletLockManager } from '@moolah/fastify-wallet-lock'
import type { FastifyBaseLogger } from 'fastify'
import type { Database } from '../db/database.js'
import { statement } from '../db/statement.js'
import { settlePurchase } from './purchase-ledger.js'
import type { ProviderPort, ProviderStatus } from './provider-port.js'

/** The failure code of a purchase the provider confirmed it never received, past the settle deadline. */
export const NEVER_RECEIVED = 'PROVIDER_NEVER_RECEIVED'

export interface SettlerOptions {
  database: Database
  provider: ProviderPort
  /** The wallet-lock plugin's manager: one lock per purchase, so one instance works each. */
  locks: WalletLockManager
  log: FastifyBaseLogger
  providerTimeoutMs: number
  /** Past this age, a provider that never received a purchase fails it (and the refund follows). */
  settleMaxSeconds: number
  /** Pause between two looks for due purchases. */
  intervalMs: number
  /** Longest pause between two questions about one purchase. */
  maxBackoffSeconds?: number
  /** Due purchases taken per look. */
  batchSize?: number
}

interface DuePurchase {
  id: string
  age_seconds: number
}

const DUE_PURCHASES = statement<DuePurchase>(
  `SELECT id, extract(epoch FROM now() - created_at)::float8 AS age_seconds FROM purchases
   WHERE status = 'pending' AND next_settle_at <= now() ORDER BY next_settle_at LIMIT $1`
)
// Exponential backoff per purchase, persisted: 1 s, 2 s, 4 s … up to the cap ($2), across
// restarts; never past the settle deadline ($3 after creation), where the rule changes.
const POSTPONE = statement<never>(
  `UPDATE purchases SET settle_attempts = settle_attempts + 1,
     next_settle_at = now() + make_interval(secs => CASE
       WHEN created_at + make_interval(secs => $3) > now()
         THEN greatest(0.5, least(power(2, settle_attempts), $2, extract(epoch FROM created_at + make_interval(secs => $3) - now())))
       ELSE least(power(2, settle_attempts), $2) END)
   WHERE id = $1 AND status = 'pending'`
)

/**
 * Settles the purchases whose outcome the request could not learn (provider timeout, dropped
 * connection, instance gone): every instance runs one, finds due pending purchases in Postgres,
 * takes the purchase's lock without waiting (another instance holding it is working it), asks
 * the provider what became of it, and completes it, or fails and refunds it, or asks again later.
 * State lives in Postgres only, so a restart loses nothing.
 */
export class Settler {
  readonly #options: Required<SettlerOptions>
  readonly #stopping = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #pass: Promise<void> = Promise.resolve()

  constructor(options: SettlerOptions) {
    this.#options = { maxBackoffSeconds: 60, batchSize: 20, ...options }
  }

  start(): void {
    this.#schedule()
  }

  /** Stops looking, cancels questions in flight and waits for the current pass to end. */
  async stop(): Promise<void> {
    this.#stopping.abort(new Error('the settler is stopping'))
    clearTimeout(this.#timer)
    await this.#pass
  }

  /** One look for due purchases, each worked by at most one instance. */
  async #settleDue(): Promise<void> {
    const { database, batchSize, log } = this.#options
    let due: DuePurchase[]
    try {
      due = await database.run(DUE_PURCHASES, [batchSize])
    } catch (error) {
      log.warn({ err: error }, 'settler: cannot read pending purchases; trying again shortly')
      return
    }
    for (const purchase of due) {
      if (this.#stopping.signal.aborted) return
      await this.#settleLocked(purchase)
    }
  }

  #schedule(): void {
    if (this.#stopping.signal.aborted) return
    this.#timer = setTimeout(() => {
      this.#pass = this.#settleDue().finally(() => this.#schedule())
    }, this.#options.intervalMs)
  }

  async #settleLocked(purchase: DuePurchase): Promise<void> {
    const { locks, log } = this.#options
    try {
      await locks.withLock(`purchase:${purchase.id}`, () => this.#settleOne(purchase), {
        waitMs: 0,
        signal: this.#stopping.signal
      })
    } catch (error) {
      // Busy means another instance is working it; anything else is logged and asked again later.
      if ((error as { code?: string }).code !== 'CONCURRENT_REQUEST' && !this.#stopping.signal.aborted) {
        log.warn(
          { err: error, purchaseId: purchase.id },
          'settler: cannot settle a purchase now; trying again later'
        )
      }
    }
  }

  async #settleOne(purchase: DuePurchase): Promise<void> {
    const { database, provider, providerTimeoutMs, settleMaxSeconds, maxBackoffSeconds, log } = this.#options
    let status: ProviderStatus | undefined
    try {
      status = await provider.status(
        purchase.id,
        AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(providerTimeoutMs)])
      )
    } catch (error) {
      if (this.#stopping.signal.aborted) return
      log.warn(
        { err: error, purchaseId: purchase.id },
        'settler: the provider cannot say what became of a purchase now'
      )
    }
    const overdue = purchase.age_seconds >= settleMaxSeconds
    if (status?.status === 'fulfilled' || status?.status === 'failed') {
      await settlePurchase(database, purchase.id, status)
    } else if (status?.status === 'not-found' && overdue) {
      // Only now is "never received" final: before the deadline the request may still be on its way.
      await settlePurchase(database, purchase.id, { status: 'failed', failureCode: NEVER_RECEIVED })
    } else {
      if (overdue)
        log.error(
          {
            purchaseId: purchase.id,
            ageSeconds: Math.round(purchase.age_seconds),
            providerStatus: status?.status
          },
          'settler: a purchase is pending past PURCHASE_SETTLE_MAX_SECONDS and the provider cannot confirm it was never fulfilled'
        )
      await database.run(POSTPONE, [purchase.id, maxBackoffSeconds, settleMaxSeconds])
    }
  }
}
